// Prints the closing line CI reads, "N passed, M failed[, K skipped]", from
// vitest's JSON reporter output — one file per run (`npm test`, and the
// browser suite's `npm run test:e2e`), summed. Exits non-zero when a file is
// missing (counted as a failure) or no test ran, so an empty run can never
// look green.
import { readFileSync } from "node:fs";

const files = process.argv.length > 2 ? process.argv.slice(2) : [".vitest-results.json"];
const total = { passed: 0, failed: 0, skipped: 0 };
for (const file of files) {
  let results;
  try {
    results = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    console.error(`test-summary: cannot read ${file}: ${error.message}`);
    total.failed += 1;
    continue;
  }
  const passed = results.numPassedTests ?? 0;
  const skipped = (results.numPendingTests ?? 0) + (results.numTodoTests ?? 0);
  const suiteErrors = (results.testResults ?? []).filter(
    (s) => s.status === "failed" && (s.assertionResults ?? []).length === 0,
  ).length;
  const failed = (results.numFailedTests ?? 0) + suiteErrors;
  if (files.length > 1) console.log(`${file}: ${passed} passed, ${failed} failed`);
  total.passed += passed;
  total.failed += failed;
  total.skipped += skipped;
}
const { passed, failed, skipped } = total;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(passed === 0 || failed > 0 ? 1 : 0);
