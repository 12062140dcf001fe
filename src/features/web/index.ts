// The web app for people: its pages and assets, mounted at / beside the API.
export { webRoutes } from "./routes/index.ts";
