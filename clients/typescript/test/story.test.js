// @ts-check
// The whole story through the built package, against the real API and a real SMTP server:
// register, receive the activation mail, activate, sign in, GET /me, change the password; and the two refusals a
// registration form handles, a 400 with its field errors and a 409.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createAccountsClient, isValidationProblem } from "@accounts-api/client";
import { startApi, startSmtpServer } from "./support.js";

/** @type {Awaited<ReturnType<typeof startSmtpServer>>} */
let smtp;
/** @type {Awaited<ReturnType<typeof startApi>>} */
let api;

before(async () => {
  smtp = await startSmtpServer();
  api = await startApi({ smtpPort: smtp.port });
});

after(async () => {
  await api?.stop();
  await smtp?.close();
});

const password = "correct horse battery staple";

test("register, receive the mail, activate, sign in, read /me and change the password", async () => {
  const client = createAccountsClient({ baseUrl: api.baseUrl });

  const registered = await client.POST("/register", {
    body: { username: "alice", email: "alice@example.com", password, confirmPassword: password, birthday: "1990-05-17" },
  });
  assert.equal(registered.response.status, 202, JSON.stringify(registered.error));
  assert.deepEqual(registered.data, { username: "alice", email: "alice@example.com", status: "pending_activation" });

  const mail = await smtp.mailTo("alice@example.com", 30_000);
  const token = /\/activate\?token=([A-Za-z0-9_-]{43})/.exec(mail.text)?.[1];
  assert.ok(token, `no activation link in:\n${mail.text}`);

  const activated = await client.POST("/activate", { body: { token } });
  assert.equal(activated.response.status, 200, JSON.stringify(activated.error));
  assert.equal(activated.data?.status, "activated");

  const signedIn = await client.POST("/login", { body: { login: "alice", password } });
  assert.equal(signedIn.response.status, 200, JSON.stringify(signedIn.error));
  assert.ok(signedIn.data);
  assert.equal(signedIn.data.tokenType, "Bearer");
  assert.ok(signedIn.data.expiresIn > 0);

  const accessToken = signedIn.data.accessToken;
  const authorized = createAccountsClient({ baseUrl: api.baseUrl, accessToken: () => accessToken });
  const me = await authorized.GET("/me");
  assert.equal(me.response.status, 200, JSON.stringify(me.error));
  assert.ok(me.data);
  assert.equal(me.data.username, "alice");
  assert.equal(me.data.email, "alice@example.com");
  assert.equal(me.data.birthday, "1990-05-17");
  assert.equal(me.data.status, "active");
  assert.ok(me.data.activatedAt && Date.parse(me.data.activatedAt) >= Date.parse(me.data.createdAt));

  // A password change ends every earlier token, this one included; the new password signs in.
  const newPassword = "a brand new horse battery staple";
  const changed = await authorized.POST("/me/password", {
    body: { currentPassword: password, password: newPassword, confirmPassword: newPassword },
  });
  assert.equal(changed.response.status, 204, JSON.stringify(changed.error));
  assert.equal((await authorized.GET("/me")).response.status, 401);
  const again = await client.POST("/login", { body: { login: "alice@example.com", password: newPassword } });
  assert.equal(again.response.status, 200, JSON.stringify(again.error));
  const notice = await smtp.mailTo("alice@example.com", 30_000, "Your password was changed");
  assert.match(notice.text, /Hello alice,/);

  const anonymous = await client.GET("/me");
  assert.equal(anonymous.response.status, 401);
  assert.equal(anonymous.error?.code, "unauthorized");
});

test("a registration with bad fields gets a 400 that names each of them", async () => {
  const client = createAccountsClient({ baseUrl: api.baseUrl });
  const { data, error, response } = await client.POST("/register", {
    body: { username: "x", email: "not an address", password: "password", confirmPassword: "something else" },
  });
  assert.equal(response.status, 400);
  assert.equal(data, undefined);
  assert.equal(response.headers.get("content-type"), "application/problem+json");
  assert.ok(isValidationProblem(error));
  assert.equal(error.code, "validation_failed");
  assert.deepEqual(Object.keys(error.errors).sort(), ["confirmPassword", "email", "password", "username"]);
  for (const messages of Object.values(error.errors)) assert.ok(messages.length > 0 && messages.every((m) => m.length > 0));
});

test("a username already taken gets a 409 username_taken", async () => {
  const client = createAccountsClient({ baseUrl: api.baseUrl });
  const first = await client.POST("/register", {
    body: { username: "bob", email: "bob@example.com", password, confirmPassword: password },
  });
  assert.equal(first.response.status, 202, JSON.stringify(first.error));

  const second = await client.POST("/register", {
    body: { username: "BOB", email: "another-bob@example.com", password, confirmPassword: password },
  });
  assert.equal(second.response.status, 409);
  assert.equal(second.error?.code, "username_taken");
  assert.equal(second.error?.status, 409);
});
