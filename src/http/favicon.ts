/**
 * Pictor's icon: a frame holding a mountain and a sun, in the two colours of Swagger UI's
 * header, small enough to serve from memory (and the same bytes on every runtime, with no file
 * to ship).
 */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">
<rect x="2" y="4" width="28" height="24" rx="4" fill="#1b1b1b"/>
<circle cx="22" cy="11" r="3" fill="#85ea2d"/>
<path d="M5 25l8-10 5 6 3-3 6 7z" fill="#85ea2d"/>
</svg>
`;
