// The README's example, compiled by `npm run check:tests` so that it stays true.
import { createAccountsClient, isValidationProblem, memorySession } from "@accounts-api/client";

const accounts = createAccountsClient({
  baseUrl: "https://accounts.example.com",
  // Keeps the pair POST /login returns, sends Authorization: Bearer …, refreshes on 401, forgets it on logout.
  session: memorySession(),
  // Or, for an SPA on the API's own site: `cookies: true` (sign in with /login?useCookies=true; no token in the page).
});

const { data, error, response } = await accounts.POST("/register", {
  body: {
    username: "alice",
    email: "alice@example.com",
    password: "correct horse battery staple",
    confirmPassword: "correct horse battery staple",
  },
});
if (data) {
  console.log(`Check ${data.email} for the activation link.`); // 202, data.status === "pending_activation"
} else if (isValidationProblem(error)) {
  console.log(error.errors); // { username: ["…"], password: ["…"] }: each failing field, camelCase
} else if (error?.code === "username_taken") {
  console.log("Choose another username."); // 409
} else {
  console.log(response.status, error?.title); // 413, 415, 429 (Retry-After), 503 storage_unavailable (Retry-After)
}

await accounts.POST("/login", { body: { login: "alice", password: "correct horse battery staple" } });
const me = await accounts.GET("/me"); // me.data: { id, username, email, birthday, status, createdAt, activatedAt }
await accounts.POST("/logout", {}); // this session ends; POST /logout/all ends every one of the account
