// Scenario tests are steps of one story: once a step fails, the later ones are skipped (reported as pending)
// instead of failing for the same cause. (Mocha's own this.bail() also skips the following spec files.)
export function stopAfterFirstFailure(): void {
  let failed: string | undefined;
  beforeEach(function () {
    if (failed) this.skip();
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') failed = failed ?? this.currentTest.title;
  });
}
