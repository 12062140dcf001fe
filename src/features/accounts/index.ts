// What the rest of Pictor uses of accounts: who is acting and which rows they may see, the
// services the routes reach through the request context, and the routes.

export type { ApiKeyRecord, ApiKeyService } from "./api-keys/api-key-service.ts";
export { apiKeysRoutes } from "./api-keys/routes/index.ts";
export { type AuthService, type Credential, SESSION_COOKIE } from "./authentication-service.ts";
export { ownedBy, visibleTo } from "./ownership.ts";
export { MIN_PASSWORD_LENGTH } from "./password-policy.ts";
export { isAdmin, type Principal, type Role } from "./principal.ts";
export { adminRoutes } from "./routes/admin/index.ts";
export { authRoutes } from "./routes/auth/index.ts";
export { oauthTokenErrors } from "./routes/auth/oauth-errors.ts";
export { meRoutes } from "./routes/me/index.ts";
export { type UserService, userEmail } from "./user-service.ts";
