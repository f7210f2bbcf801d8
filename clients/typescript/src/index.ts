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
export type MeResponse = Schemas["MeResponse"];
export type ResetPasswordRequest = Schemas["ResetPasswordRequest"];
export type HealthResponse = Schemas["HealthResponse"];
/** Every error is one: an RFC 9457 problem with a stable `code` to switch on. */
export type Problem = Schemas["Problem"];
/** A 400: the problem plus `errors`, each failing field's messages under its camelCase name (`$`: the body). */
export type ValidationProblem = Schemas["ValidationProblem"];
export type ProblemCode = Problem["code"];

export type AccountsClient = Client<paths>;

export interface AccountsClientOptions extends ClientOptions {
  /** Where the API is, for example `https://accounts.example.com` (its `PublicBaseUrl`). */
  baseUrl: string;
  /**
   * The access token from `POST /login` to send as `Authorization: Bearer …` on every request,
   * or nothing while signed out. Called for each request, so it can read wherever the app keeps it.
   */
  accessToken?: () => string | null | undefined | Promise<string | null | undefined>;
}

/** A client for the API at `options.baseUrl`. */
export function createAccountsClient({ accessToken, ...options }: AccountsClientOptions): AccountsClient {
  const client = createClient<paths>(options);
  if (accessToken) {
    client.use({
      async onRequest({ request }) {
        const token = await accessToken();
        if (token) {
          request.headers.set("Authorization", `Bearer ${token}`);
        }
        return request;
      },
    });
  }
  return client;
}

/** True when an error answer is a 400's problem, which names each failing field in `errors`. */
export function isValidationProblem(problem: Problem | ValidationProblem | undefined): problem is ValidationProblem {
  return problem !== undefined && problem.status === 400 && "errors" in problem;
}
