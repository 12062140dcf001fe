export const ROLES = ["user", "admin"] as const;
export type Role = (typeof ROLES)[number];

/** Who a request acts for, as the auth middleware established it (checked against the database). */
export type Principal = {
  userId: string;
  role: Role;
  /** How the request proved it: a login token (JWT), an API key or the web app's session cookie. */
  via: "token" | "api_key" | "session";
  /** The API key's id when `via` is "api_key". */
  keyId: string | null;
};

/** True when `principal` may see every user's resources. */
export const isAdmin = (principal: Principal): boolean => principal.role === "admin";
