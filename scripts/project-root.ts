// The checkout's root, for scripts, fixtures and suites that live next to the harness.
export const PROJECT_ROOT = new URL('..', import.meta.url).pathname;
