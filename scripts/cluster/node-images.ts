// kind's published node images, by kind release, as each release's notes list them ("Images
// pre-built for this release"). kind supports a node image only with the release that built it, so
// the row set follows the kind binary in use; the digest pins the exact build (a tag on Docker Hub can
// point at another release's build). Copy new rows from the notes; never type a digest by hand.
import { UserError } from '../errors.ts';
import { type KubernetesVersion, formatVersion, newestMatching } from './kubernetes-version.ts';

export interface NodeImageRow {
  /** Kubernetes version, e.g. v1.34.0. */
  kubernetes: string;
  /** kindest/node:<version>@sha256:<digest>, as the release notes print it. */
  image: string;
}

/**
 * Sources: https://github.com/kubernetes-sigs/kind/releases/tag/<release>. v0.32.0: only its default
 * image is recorded here (the one row whose digest could be checked against the notes' text).
 */
export const KIND_NODE_IMAGES: Readonly<Record<string, readonly NodeImageRow[]>> = {
  'v0.30.0': [
    { kubernetes: 'v1.34.0', image: 'kindest/node:v1.34.0@sha256:7416a61b42b1662ca6ca89f02028ac133a309a2a30ba309614e8ec94d976dc5a' },
    { kubernetes: 'v1.33.4', image: 'kindest/node:v1.33.4@sha256:25a6018e48dfcaee478f4a59af81157a437f15e6e140bf103f85a2e7cd0cbbf2' },
    { kubernetes: 'v1.32.8', image: 'kindest/node:v1.32.8@sha256:abd489f042d2b644e2d033f5c2d900bc707798d075e8186cb65e3f1367a9d5a1' },
    { kubernetes: 'v1.31.12', image: 'kindest/node:v1.31.12@sha256:0f5cc49c5e73c0c2bb6e2df56e7df189240d83cf94edfa30946482eb08ec57d2' },
  ],
  'v0.31.0': [
    { kubernetes: 'v1.35.0', image: 'kindest/node:v1.35.0@sha256:452d707d4862f52530247495d180205e029056831160e22870e37e3f6c1ac31f' },
    { kubernetes: 'v1.34.3', image: 'kindest/node:v1.34.3@sha256:08497ee19eace7b4b5348db5c6a1591d7752b164530a36f855cb0f2bdcbadd48' },
    { kubernetes: 'v1.33.7', image: 'kindest/node:v1.33.7@sha256:d26ef333bdb2cbe9862a0f7c3803ecc7b4303d8cea8e814b481b09949d353040' },
    { kubernetes: 'v1.32.11', image: 'kindest/node:v1.32.11@sha256:5fc52d52a7b9574015299724bd68f183702956aa4a2116ae75a63cb574b35af8' },
    { kubernetes: 'v1.31.14', image: 'kindest/node:v1.31.14@sha256:6f86cf509dbb42767b6e79debc3f2c32e4ee01386f0489b3b2be24b0a55aac2b' },
  ],
  'v0.32.0': [
    { kubernetes: 'v1.36.1', image: 'kindest/node:v1.36.1@sha256:3489c7674813ba5d8b1a9977baea8a6e553784dab7b84759d1014dbd78f7ebd5' },
  ],
  'v0.33.0': [
    { kubernetes: 'v1.37.0', image: 'kindest/node:v1.37.0@sha256:a1ed56cfb0e7b93589bdf97c8cd566405a265939e3620fc4f5de89adff580ae5' },
    { kubernetes: 'v1.36.4', image: 'kindest/node:v1.36.4@sha256:099e049362a1526b2db71494e1947aae99bd16290d7c895f2b7ea312e3cbfaed' },
    { kubernetes: 'v1.35.8', image: 'kindest/node:v1.35.8@sha256:07b2536e30b803ed61d1677a79df6115f798ce64c80f9e22f6ed45afd09323c0' },
    { kubernetes: 'v1.34.11', image: 'kindest/node:v1.34.11@sha256:44e222ee2132dab25ff87301682f89eb82c7880ea3a1bf543bfe9708fd08d67d' },
  ],
};

/** `v0.30.0` from `kind version`'s output (`kind v0.30.0 go1.24.6 linux/amd64`). */
export function kindRelease(versionOutput: string): string | undefined {
  const m = /\bv(\d+)\.(\d+)\.(\d+)\b/.exec(versionOutput);
  return m ? `v${m[1]}.${m[2]}.${m[3]}` : undefined;
}

/** The kind releases this table knows, oldest first. */
export function knownKindReleases(): string[] {
  return Object.keys(KIND_NODE_IMAGES).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

/**
 * The node image for a kind release and a requested Kubernetes version (a minor picks its newest
 * listed patch; none picks the newest listed). A version the release has no image for is the
 * user's to change: the error names the versions it has.
 */
export function nodeImageFor(release: string, wanted: KubernetesVersion | undefined): NodeImageRow {
  const rows = KIND_NODE_IMAGES[release];
  if (!rows?.length) {
    throw new UserError(
      `kind ${release} is not in the node-image table (scripts/cluster/node-images.ts lists ${knownKindReleases().join(', ')}): ` +
        `its pre-built images are not known here. Use one of those kind releases, or add its rows from its release notes.`,
    );
  }
  const versions = rows.map((r) => r.kubernetes);
  const picked = newestMatching(versions, wanted);
  if (!picked) {
    throw new UserError(
      `--kubernetes-version ${wanted ? formatVersion(wanted) : ''}: kind ${release} publishes node images for ${versions.join(', ')} only. ` +
        'Pick one of those (a minor such as 1.34 takes its newest patch), or use another kind release.',
    );
  }
  return rows.find((r) => r.kubernetes === picked)!;
}
