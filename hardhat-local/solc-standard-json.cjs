#!/usr/bin/env node
// A solc stand-in for py-solc-x, backed by the solc-js (wasm) package installed here.
// It answers the only two calls `solcx.compile_standard` makes:
//   solc --version                      -> the real solc-js version line
//   solc --standard-json [ignored ...]  -> standard JSON in on stdin, out on stdout
// credit-ledger's build inlines every source (OpenZeppelin included), so no import
// callback is needed and native solc and solc-js see the same input.
"use strict";
const solc = require("solc");

const args = process.argv.slice(2);
if (args.includes("--version")) {
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  process.exit(0);
}
if (!args.includes("--standard-json")) {
  process.stderr.write("usage: solc-standard-json.cjs --version | --standard-json < input.json\n");
  process.exit(2);
}
const chunks = [];
process.stdin.on("data", (chunk) => chunks.push(chunk));
process.stdin.on("end", () => {
  const input = Buffer.concat(chunks).toString("utf8");
  process.stdout.write(solc.compile(input));
});
