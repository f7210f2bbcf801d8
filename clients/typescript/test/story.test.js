// @ts-check
// The whole story through the built package, against the real API and a real SMTP server:
// register, receive the activation mail, activate, sign in, GET /me, change the password; a session kept by the
// client (refreshed on 401 by itself, rotated, ended by logout and logout/all); and the two refusals a
// registration form handles, a 400 with its field errors and a 409.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createAccountsClient, isValidationProblem, memorySession } from "@accounts-api/client";
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

/** Registers `username` and activates it from the mailed link.
 * @param {string} username
 */
async function activeAccount(username) {
  const client = createAccountsClient({ baseUrl: api.baseUrl });
  const email = `${username}@example.com`;
  const registered = await client.POST("/register", { body: { username, email, password, confirmPassword: password } });
  assert.equal(registered.response.status, 202, JSON.stringify(registered.error));
  const token = /\/activate\?token=([A-Za-z0-9_-]{43})/.exec((await smtp.mailTo(email, 30_000)).text)?.[1];
  assert.ok(token);
  assert.equal((await client.POST("/activate", { body: { token } })).response.status, 200);
}

test("a session the client keeps: refreshed by itself on 401, rotated, ended by logout and by logout/all", async () => {
  await activeAccount("carol");
  const session = memorySession();
  const client = createAccountsClient({ baseUrl: api.baseUrl, session });
  // Signed out at first: a 401 with nothing to refresh leaves the client able to refresh later.
  assert.equal((await client.GET("/me")).response.status, 401);
  const signedIn = await client.POST("/login", { body: { login: "carol", password } });
  assert.equal(signedIn.response.status, 200, JSON.stringify(signedIn.error));
  const first = session.get();
  assert.ok(first && first.refreshToken.length === 43, "the client keeps the pair /login returned");

  // An access token that no longer works (as one past its hour): three requests at once get 401,
  // the client refreshes once for all of them and sends each again.
  session.set({ ...first, accessToken: "expired" });
  const answers = await Promise.all([client.GET("/me"), client.GET("/me"), client.GET("/me")]);
  assert.deepEqual(answers.map((a) => a.response.status), [200, 200, 200]);
  const second = session.get();
  assert.ok(second && second.refreshToken !== first.refreshToken && second.accessToken !== "expired");

  // A POST with a body, sent again after the refresh with the same body.
  session.set({ ...second, accessToken: "expired" });
  const moved = await client.POST("/me/email", { body: { email: "carol.new@example.com", password } });
  assert.equal(moved.response.status, 202, JSON.stringify(moved.error));
  await smtp.mailTo("carol.new@example.com", 30_000);

  // The retired refresh token is refused; the new one rotates again.
  const anonymous = createAccountsClient({ baseUrl: api.baseUrl });
  const retired = await anonymous.POST("/token/refresh", { body: { refreshToken: first.refreshToken } });
  assert.equal(retired.response.status, 401);
  assert.equal(retired.error?.code, "invalid_refresh_token");

  // Logout with an access token past its time: the client refreshes, sends the logout again, and
  // forgets the session once it has ended.
  const stale = session.get();
  assert.ok(stale);
  session.set({ ...stale, accessToken: "expired" });
  assert.equal((await client.POST("/logout", {})).response.status, 204);
  assert.equal(session.get(), null);

  // Logout ends the session at once: its access token and its refresh token stop working.
  assert.equal((await client.POST("/login", { body: { login: "carol", password } })).response.status, 200);
  const beforeLogout = session.get();
  assert.ok(beforeLogout);
  assert.equal((await client.POST("/logout", {})).response.status, 204);
  assert.equal(session.get(), null);
  const old = createAccountsClient({ baseUrl: api.baseUrl, accessToken: () => beforeLogout.accessToken });
  assert.equal((await old.GET("/me")).response.status, 401);
  const refused = await anonymous.POST("/token/refresh", { body: { refreshToken: beforeLogout.refreshToken } });
  assert.equal(refused.error?.code, "invalid_refresh_token");

  // Two devices; logout/all from one ends both.
  const phone = createAccountsClient({ baseUrl: api.baseUrl, session: memorySession() });
  const laptop = createAccountsClient({ baseUrl: api.baseUrl, session: memorySession() });
  for (const device of [phone, laptop]) assert.equal((await device.POST("/login", { body: { login: "carol", password } })).response.status, 200);
  assert.equal((await laptop.POST("/logout/all")).response.status, 204);
  const onPhone = await phone.GET("/me");
  assert.equal(onPhone.response.status, 401);
  assert.equal(onPhone.error?.code, "unauthorized");
});
