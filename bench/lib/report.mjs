// Scenarios print one JSON line; the runner collects them.
export function report(result) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
