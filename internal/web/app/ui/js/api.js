// The few HTTP API calls the app makes besides what the SDK wraps (rooms
// and their members, docs/API.md). Tokens go in the Authorization header.

/** A failed API call: status, and the API's error code and message. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.code = code || "";
  }
}

/**
 * Returns api(method, path, body), which calls /api/v1 + path with the
 * session's access token and, once, refreshes the token and retries after
 * a 401 (the access token may have expired while the page slept).
 * @param {{ accessToken: () => string|null, renew: (() => Promise<string>)|null }} auth
 */
export function createApi(auth) {
  return async function api(method, path, body) {
    for (let attempt = 0; ; attempt++) {
      const headers = {};
      const token = auth.accessToken();
      if (token) headers.Authorization = `Bearer ${token}`;
      if (body !== undefined) headers["Content-Type"] = "application/json";
      const res = await fetch(`/api/v1${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
      });
      if (res.status === 401 && attempt === 0 && auth.renew) {
        await auth.renew();
        continue;
      }
      if (res.status === 204) return null;
      const data = await res.json().catch(() => null);
      if (!res.ok) throw new ApiError(res.status, data?.error?.code, data?.error?.message);
      return data;
    }
  };
}

/** Percent-encodes one path segment. */
export function seg(s) {
  return encodeURIComponent(s);
}
