// Scores passwords with the reference zxcvbn (Dropbox's, the version pinned in package.json).
// stdin: a JSON array of {password, username, email}; stdout: a JSON array of {score, guesses}.
// The user inputs are the API's documented known words, worked out here on their own: the username
// and the email, then their parts split at @ . _ - +, lower-cased, first occurrence kept.
import { createRequire } from 'node:module';

const zxcvbn = createRequire(import.meta.url)('zxcvbn');

const knownWords = (...given) => {
  const words = given.filter((w) => w && w.trim().length > 0);
  const all = [...words, ...words.flatMap((w) => w.split(/[@._+-]/).filter((part) => part.length > 0))];
  return [...new Set(all.map((w) => w.toLowerCase()))];
};

let input = '';
process.stdin.setEncoding('utf8');
for await (const chunk of process.stdin) input += chunk;
const results = JSON.parse(input).map(({ password, username, email }) => {
  const result = zxcvbn(password, knownWords(username, email));
  return { score: result.score, guesses: result.guesses };
});
process.stdout.write(JSON.stringify(results));
