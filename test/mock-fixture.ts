// The mock provider in-process for one test file: started before its tests, closed after them,
// journal and script rules cleared before each test so no test sees another's requests.
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startMock, type MockServer } from '../mock/server.ts';

/** Registers the hooks; call the returned function inside tests and hooks to get the server. */
export function useMock(): () => MockServer {
  let mock: MockServer | undefined;
  beforeAll(async () => {
    mock = await startMock({ quiet: true });
  });
  afterAll(() => mock?.close());
  beforeEach(() => {
    mock!.journal.clear();
    mock!.script.clear();
  });
  return () => mock!;
}
