/**
 * The Accounts API's typed client: the types are generated from the API's OpenAPI document
 * (`src/schema.ts`, by openapi-typescript; never edit it by hand) and the calls are openapi-fetch's,
 * so a path, a method, a request body or a response member the API does not have is a type error.
 */
import createClient, { type Client, type ClientOptions } from "openapi-fetch";
import type { components, paths } from "./schema.js";

export type { components, operations, paths } from "./schema.js";

type Schemas = components["schemas"];

export type RegisterRequest = Schemas["RegisterRequest"];
export type RegisterResponse = Schemas["RegisterResponse"];
export type EmailRequest = Schemas["EmailRequest"];
export type AcceptedResponse = Schemas["AcceptedResponse"];
export type ActivateRequest = Schemas["ActivateRequest"];
export type ActivationResponse = Schemas["ActivationResponse"];
export type LoginRequest = Schemas["LoginRequest"];
export type LoginResponse = Schemas["LoginResponse"];
export type RefreshRequest = Schemas["RefreshRequest"];
export type MeResponse = Schemas["MeResponse"];
export type ResetPasswordRequest = Schemas["ResetPasswordRequest"];
export type HealthResponse = Schemas["HealthResponse"];
/** Every error is one: an RFC 9457 problem with a stable `code` to switch on. */
export type Problem = Schemas["Problem"];
/** A 400: the problem plus `errors`, each failing field's messages under its camelCase name (`$`: the body). */
export type ValidationProblem = Schemas["ValidationProblem"];
export type ProblemCode = Problem["code"];

export type AccountsClient = Client<paths>;

/** A session's tokens, as `POST /login` and `POST /token/refresh` return them. */
export type SessionTokens = LoginResponse;

/**
 * Where a client in bearer mode keeps the session's tokens. Called for every request, so it can
 * sit on whatever the app uses; `memorySession()` keeps them in a variable (gone on reload,
 * out of reach of other tabs and of storage-reading scripts).
 */
export interface SessionStore {
  get(): SessionTokens | null | undefined;
  set(tokens: SessionTokens | null): void;
}

/** A `SessionStore` in memory. */
export function memorySession(initial: SessionTokens | null = null): SessionStore {
  let tokens = initial;
  return {
    get: () => tokens,
    set: (next) => {
      tokens = next;
    },
  };
}

export interface AccountsClientOptions extends ClientOptions {
  /** Where the API is, for example `https://accounts.example.com` (its `PublicBaseUrl`). */
  baseUrl: string;
  /**
   * The access token to send as `Authorization: Bearer …` on every request, or nothing while
   * signed out. Called for each request, so it can read wherever the app keeps it. For a client
   * that also refreshes and signs out by itself, use `session` instead.
   */
  accessToken?: () => string | null | undefined | Promise<string | null | undefined>;
  /**
   * Bearer mode with the session handled: a `POST /login` or `POST /token/refresh` answer is kept
   * here, its access token sent with every request; a 401 is met by one `POST /token/refresh`
   * (one at a time, however many requests failed together) and the request sent again; and
   * `POST /logout`, `POST /logout/all` or a refused refresh empty it.
   */
  session?: SessionStore;
  /**
   * Cookie mode, for an SPA on the API's own site: the browser keeps the session in HttpOnly
   * cookies (sign in with `POST /login?useCookies=true`), so no token reaches the page's scripts.
   * The client sends credentials and `X-CSRF: 1` with every request that is not a GET, and meets
   * a 401 with one cookie refresh and a retry.
   */
  cookies?: boolean;
}

/** Paths whose 401 is the answer itself, not an expired access token to renew. */
const noRefresh = ["/login", "/token/refresh"];

/** A client for the API at `options.baseUrl`. */
export function createAccountsClient({ accessToken, session, cookies, ...options }: AccountsClientOptions): AccountsClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const fetchImpl = options.fetch ?? ((request: Request) => globalThis.fetch(request));
  const client = createClient<paths>(cookies ? { credentials: "include", ...options } : options);
  /** The request as first sent, before its body was read: a retry after a refresh sends this again. */
  const originals = new WeakMap<Request, Request>();
  /** The refresh under way, shared by every request that failed with 401 meanwhile. */
  let refreshing: Promise<boolean> | null = null;

  const bearerOf = async () => (session ? session.get()?.accessToken : accessToken ? await accessToken() : undefined);

  /**
   * One refresh; true when sending the failed request again may now succeed: the refresh worked,
   * or it lost a race to another tab or client that shares the cookies or the store, which now
   * hold the winner's new pair (the API keeps the session for such a race).
   */
  const refreshOnce = async (): Promise<boolean> => {
    try {
      if (cookies) {
        const answer = await fetchImpl(new Request(`${baseUrl}/token/refresh`, { method: "POST", credentials: "include", headers: { "X-CSRF": "1" } }));
        return answer.status === 204 || answer.status === 401;
      }
      const refreshToken = session?.get()?.refreshToken;
      if (!session || !refreshToken) return false;
      const answer = await fetchImpl(new Request(`${baseUrl}/token/refresh`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ refreshToken }),
      }));
      if (answer.status === 200) {
        session.set((await answer.json()) as SessionTokens);
        return true;
      }
      if (session.get()?.refreshToken !== refreshToken) return true; // another client refreshed meanwhile
      session.set(null);
      return false;
    } catch {
      return false;
    }
  };

  const refresh = (): Promise<boolean> => {
    // Cleared when this refresh settles, not inside it: a refresh that ends before its first await
    // must not leave a settled promise behind for every later 401.
    refreshing ??= refreshOnce().finally(() => {
      refreshing = null;
    });
    return refreshing;
  };

  /** What every answer updates in the store, the first one and a retry's alike. */
  const remember = async (schemaPath: string, response: Response) => {
    if (!session || !response.ok) return;
    if ((schemaPath === "/login" || schemaPath === "/token/refresh") && response.status === 200) {
      session.set((await response.clone().json()) as SessionTokens);
    }
    if (schemaPath === "/logout" || schemaPath === "/logout/all") session.set(null);
  };

  if (!accessToken && !session && !cookies) return client;
  client.use({
    async onRequest({ request }) {
      const token = await bearerOf();
      if (token) request.headers.set("Authorization", `Bearer ${token}`);
      if (cookies && request.method !== "GET" && request.method !== "HEAD") request.headers.set("X-CSRF", "1");
      if (session || cookies) originals.set(request, request.clone());
      return request;
    },
    async onResponse({ request, response, schemaPath }) {
      await remember(schemaPath, response);
      const original = originals.get(request);
      if (response.status !== 401 || !original || noRefresh.includes(schemaPath) || !(await refresh())) return response;
      const retry = original.clone();
      const token = await bearerOf();
      if (token) retry.headers.set("Authorization", `Bearer ${token}`);
      const answer = await fetchImpl(retry);
      await remember(schemaPath, answer);
      return answer;
    },
  });
  return client;
}

/** True when an error answer is a 400's problem, which names each failing field in `errors`. */
export function isValidationProblem(problem: Problem | ValidationProblem | undefined): problem is ValidationProblem {
  return problem !== undefined && problem.status === 400 && "errors" in problem;
}
