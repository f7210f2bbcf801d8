// The dictionaries and keyboard graphs of the reference zxcvbn (4.4.2, pinned in package.json), as the
// API embeds them (Api/Accounts/Zxcvbn/Data). One word a line, in rank order; graphs as JSON, a key a line.
//
//   node zxcvbn-data.mjs            prints {lists, graphs} as JSON (the tests compare it with the embedded copy)
//   node zxcvbn-data.mjs --write D  writes the files into folder D (run after changing the pinned version)
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const lists = require('zxcvbn/lib/frequency_lists.js');
const graphs = require('zxcvbn/lib/adjacency_graphs.js');

const write = process.argv.indexOf('--write');
if (write < 0) {
  process.stdout.write(JSON.stringify({ lists, graphs }));
} else {
  const folder = process.argv[write + 1];
  for (const [name, words] of Object.entries(lists)) {
    writeFileSync(join(folder, `${name}.txt`), words.join('\n') + '\n');
  }
  const lines = Object.entries(graphs).map(([name, graph]) =>
    `  ${JSON.stringify(name)}: {\n` +
    Object.entries(graph).map(([key, adjacent]) => `    ${JSON.stringify(key)}: ${JSON.stringify(adjacent)}`).join(',\n') +
    '\n  }');
  writeFileSync(join(folder, 'adjacency_graphs.json'), '{\n' + lines.join(',\n') + '\n}\n');
  process.stdout.write(`wrote ${Object.keys(lists).length} lists and ${Object.keys(graphs).length} graphs to ${folder}\n`);
}
