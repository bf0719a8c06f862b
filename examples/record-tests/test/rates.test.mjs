import { test } from "node:test";
import assert from "node:assert/strict";
import { convert } from "../rates.mjs";

test("converts euros to dollars", async () => {
  assert.equal(await convert(100, "EUR", "USD"), 108);
});

test("converts dollars to pounds", async () => {
  assert.equal(await convert(10, "USD", "GBP"), 7.9);
});

test("an unknown currency is an error", async () => {
  await assert.rejects(convert(1, "XYZ", "USD"), /rates API answered 404/);
});
