// Prints the closing line CI reads, "N passed, M failed[, K skipped]", from
// vitest's JSON reporter output. Exits non-zero when the file is missing or
// no test ran, so an empty run can never look green.
import { readFileSync } from "node:fs";

const file = process.argv[2] ?? ".vitest-results.json";
let results;
try {
  results = JSON.parse(readFileSync(file, "utf8"));
} catch (error) {
  console.error(`test-summary: cannot read ${file}: ${error.message}`);
  console.log("0 passed, 1 failed");
  process.exit(1);
}
const passed = results.numPassedTests ?? 0;
const failed = results.numFailedTests ?? 0;
const skipped = (results.numPendingTests ?? 0) + (results.numTodoTests ?? 0);
const suiteErrors = (results.testResults ?? []).filter(
  (s) => s.status === "failed" && (s.assertionResults ?? []).length === 0,
).length;
const line = `${passed} passed, ${failed + suiteErrors} failed${skipped ? `, ${skipped} skipped` : ""}`;
console.log(line);
process.exit(passed === 0 || failed + suiteErrors > 0 ? 1 : 0);
