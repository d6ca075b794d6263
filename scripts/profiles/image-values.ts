// Chart `image` values for an image built here (`repository:tag`): never pulled, so a missing
// image on a node fails at once instead of waiting on a registry the cluster cannot reach.
export function imageValues(ref: string): { repository: string; tag: string; pullPolicy: 'Never' } {
  const at = ref.lastIndexOf(':');
  return { repository: ref.slice(0, at), tag: ref.slice(at + 1), pullPolicy: 'Never' };
}
