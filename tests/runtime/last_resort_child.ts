/**
 * Run as a child process by last_resort_test.ts: installs the last-resort guard, lets a claimed
 * and an unclaimed error escape to the top (from nextTick, a timer, a rejected promise), and
 * prints what happened as JSON once the process has survived them.
 */
import process from "node:process";
import { claimUncaught, installLastResort } from "../../src/runtime/shared/last_resort.ts";

const reported: string[] = [];
const claimed: string[] = [];
installLastResort((line) => reported.push(line));
claimUncaught((e) => {
  if ((e as Error).message !== "belongs to connection 7") return false;
  claimed.push((e as Error).message);
  return true;
});
process.nextTick(() => {
  throw new Error("belongs to connection 7");
});
setTimeout(() => {
  throw new TypeError("nobody's");
}, 0);
Promise.reject(new Error("a rejection nobody awaits"));
setTimeout(() => {
  console.log(JSON.stringify({ reported, claimed }));
}, 200);
