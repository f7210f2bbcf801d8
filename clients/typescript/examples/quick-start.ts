// The README's example, compiled by `npm run check:tests` so that it stays true.
import { createAccountsClient, isValidationProblem } from "@accounts-api/client";

const accounts = createAccountsClient({
  baseUrl: "https://accounts.example.com",
  accessToken: () => sessionStorage.getItem("accessToken"), // sent as Authorization: Bearer …
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

const signedIn = await accounts.POST("/login", { body: { login: "alice", password: "correct horse battery staple" } });
if (signedIn.data) sessionStorage.setItem("accessToken", signedIn.data.accessToken);

const me = await accounts.GET("/me"); // me.data: { id, username, email, birthday, status, createdAt, activatedAt }
