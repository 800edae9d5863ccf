// Hardhat 3 configuration for the local development chain of credit-ledger.
//
// The node's accounts are the demo consortium's DEVELOPMENT-ONLY keys from
// ../chain_client/devnet.json (public keys: never use them on a real network).
// Contracts are compiled by `credit-ledger build`, not by Hardhat; the solidity
// entry only pins the same offline solc-js so that `hardhat build` never downloads.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const devnet = JSON.parse(
  readFileSync(new URL("../chain_client/devnet.json", import.meta.url), "utf8"),
);
const TEN_MILLION_ETH = "10000000000000000000000000";
// Development only: CREDIT_LEDGER_HARDHAT_START (an ISO date-time) starts the chain's
// clock there instead of now, so that a demo's deadlines fall in adopted calendar years
// whatever the date; the clock runs on from there.
const START = process.env.CREDIT_LEDGER_HARDHAT_START;

export default {
  solidity: {
    version: "0.8.28",
    path: require.resolve("solc/soljson.js"),
    settings: { evmVersion: "paris", optimizer: { enabled: true, runs: 1000 } },
  },
  paths: { sources: "../contracts" },
  networks: {
    node: {
      type: "edr-simulated",
      chainType: "l1",
      chainId: 31337,
      blockGasLimit: 30_000_000,
      ...(START ? { initialDate: START } : {}),
      accounts: devnet.accounts.map((account) => ({
        privateKey: account.privateKey,
        balance: TEN_MILLION_ETH,
      })),
    },
  },
};
