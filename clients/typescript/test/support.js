// @ts-check
// What the story test runs against: the real API, built from this repository and started as its
// own process on a free loopback port with a fresh SQLite file, sending its mail over SMTP to a
// real SMTP server (smtp-server) listening on loopback here.
import { spawn, execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { SMTPServer } from "smtp-server";
import { simpleParser } from "mailparser";

const root = resolve(import.meta.dirname, "../../..");

/** A free TCP port on loopback (the API is told it before it starts, for its PublicBaseUrl). */
async function freePort() {
  const server = createServer();
  await new Promise((done) => server.listen(0, "127.0.0.1", () => done(undefined)));
  const address = server.address();
  await new Promise((done) => server.close(() => done(undefined)));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/**
 * Polls `check` until it returns something other than undefined, or fails after `timeoutMs`.
 * @template T
 * @param {() => Promise<T | undefined>} check
 * @param {string} what
 * @param {number} timeoutMs
 * @returns {Promise<T>}
 */
export async function eventually(check, what, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 50));
  }
}

/** @typedef {{ to: string, subject: string, text: string }} Mail */

/** An SMTP server on a free loopback port that keeps every message it accepts. */
export async function startSmtpServer() {
  /** @type {Mail[]} */
  const received = [];
  /** @type {Set<() => void>} */
  const waiters = new Set();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    disableReverseLookup: true,
    onData(stream, _session, callback) {
      simpleParser(stream).then(
        (mail) => {
          const to = Array.isArray(mail.to) ? mail.to.map((a) => a.text).join(", ") : (mail.to?.text ?? "");
          received.push({ to, subject: mail.subject ?? "", text: mail.text ?? "" });
          for (const wake of waiters) wake();
          callback();
        },
        (error) => callback(error),
      );
    },
  });
  await new Promise((done) => server.listen(0, "127.0.0.1", () => done(undefined)));
  const address = server.server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    port: address.port,
    /**
     * The first message to `address` (with `subject`, when given), once it arrives.
     * @param {string} address
     * @param {number} timeoutMs
     * @param {string} [subject]
     * @returns {Promise<Mail>}
     */
    async mailTo(address, timeoutMs, subject) {
      const find = () => received.find((mail) => mail.to.includes(address) && (subject === undefined || mail.subject === subject));
      const found = find();
      if (found) return found;
      return await new Promise((done, fail) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          fail(new Error(`No mail to ${address} within ${timeoutMs} ms; received: ${received.map((m) => m.to).join("; ") || "none"}`));
        }, timeoutMs);
        function check() {
          const mail = find();
          if (mail) {
            clearTimeout(timer);
            waiters.delete(check);
            done(mail);
          }
        }
        waiters.add(check);
      });
    },
    async close() {
      await new Promise((done) => server.close(() => done(undefined)));
    },
  };
}

/**
 * Builds the API (incrementally) and starts it on a free loopback port with an empty SQLite
 * database in a temporary folder, mailing over SMTP to `smtpPort`; resolves once it answers
 * /health/live. `stop()` ends it and removes the folder.
 * @param {{ smtpPort: number }} options
 */
export async function startApi({ smtpPort }) {
  await promisify(execFile)("dotnet", ["build", join(root, "Api", "Api.csproj"), "--nologo", "-v", "quiet", "-c", "Debug"], {
    maxBuffer: 16 * 1024 * 1024,
  });
  const folder = await mkdtemp(join(tmpdir(), "accounts-client-"));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const output = join(root, "Api", "bin", "Debug", "net10.0");
  const child = spawn("dotnet", [join(output, "Api.dll"), "--urls", baseUrl], {
    cwd: output,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      ASPNETCORE_ENVIRONMENT: "Production",
      PublicBaseUrl: baseUrl,
      Database__Provider: "Sqlite",
      Database__ConnectionString: `Data Source=${join(folder, "accounts.db")}`,
      DataProtection__KeysDirectory: join(folder, "keys"),
      Email__Transport: "Smtp",
      Email__From: "accounts@example.test",
      Email__Smtp__Host: "127.0.0.1",
      Email__Smtp__Port: String(smtpPort),
      Email__Smtp__Security: "None",
      Passwords__Iterations: "1000",
      Logging__LogLevel__Default: "Warning",
    },
  });
  let log = "";
  child.stdout.on("data", (chunk) => (log += chunk));
  child.stderr.on("data", (chunk) => (log += chunk));
  /** @type {number | null} */
  let exitCode = null;
  const exited = new Promise((done) => child.on("exit", (code) => done((exitCode = code ?? -1))));

  const stop = async () => {
    if (exitCode === null) {
      child.kill("SIGTERM");
      await exited;
    }
    await rm(folder, { recursive: true, force: true });
  };

  try {
    await eventually(
      async () => {
        if (exitCode !== null) throw new Error(`The API exited with ${exitCode}:\n${log}`);
        try {
          return (await fetch(`${baseUrl}/health/live`)).ok ? true : undefined;
        } catch {
          return undefined;
        }
      },
      "the API to answer /health/live",
      60_000,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { baseUrl, stop, log: () => log };
}
