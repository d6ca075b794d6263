// Where the Envoy AI Gateway stack's CRDs and Helm charts are: inside the Go module zips the image
// build downloaded (`go mod download`), found by path in the module cache, never copied into git.
// The versions come from scripts/images/lib.sh, the one place they are pinned, so the manifests are
// always those of the binaries in the images.
//
//   const src = await locateStackSources();
//   src.crdFiles            // Gateway API (EG's bundle) + Envoy Gateway + AI Gateway CRDs
//   src.envoyGatewayChart   // <modcache>/github.com/envoyproxy/gateway@v1.8.2/charts/gateway-helm
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { parse } from 'yaml';
import { EnvironmentError } from '../errors.ts';
import { IMAGES_DIR } from '../images/index.ts';
import { isExecutable, locateSync } from '../tools.ts';

export interface StackVersions {
  envoy: string;
  envoyGateway: string;
  aiGateway: string;
  ratelimit: string;
  egModule: string;
  aigModule: string;
}

export interface StackSources {
  versions: StackVersions;
  /** Module directories in the Go module cache (read-only). */
  egDir: string;
  aigDir: string;
  /** CRD files in apply order: Gateway API first, then Envoy Gateway's, then AI Gateway's. */
  crdFiles: string[];
  /** Envoy Gateway's chart; it ships only values.tmpl.yaml, see envoyGatewayBaseValues. */
  envoyGatewayChart: string;
  /** The values AI Gateway documents for the Envoy Gateway it extends (extension manager, Backend API). */
  aiGatewayEgValuesFile: string;
  aiGatewayChart: string;
}

/** The pinned versions, read from scripts/images/lib.sh by sourcing it (no second copy of them). */
export async function stackVersions(env: NodeJS.ProcessEnv = process.env): Promise<StackVersions> {
  const script =
    `source ${JSON.stringify(join(IMAGES_DIR, 'lib.sh'))} && ` +
    'printf "%s\\n" "$GS_ENVOY_VERSION" "$GS_EG_VERSION" "$GS_AIG_VERSION" "$GS_RATELIMIT_VERSION" "$GS_EG_MODULE" "$GS_AIG_MODULE"';
  const { stdout } = await execa('bash', ['-c', script], { env });
  const [envoy, envoyGateway, aiGateway, ratelimit, egModule, aigModule] = stdout.split('\n');
  if (!aigModule) throw new Error(`scripts/images/lib.sh did not name the AI Gateway stack's versions: ${stdout}`);
  return { envoy: envoy!, envoyGateway: envoyGateway!, aiGateway: aiGateway!, ratelimit: ratelimit!, egModule: egModule!, aigModule: aigModule! };
}

/** `go mod download -json MOD@VER`: the module's directory, downloaded if the cache lacks it. */
async function moduleDir(go: string, mod: string, version: string, env: NodeJS.ProcessEnv): Promise<string> {
  // cwd outside any module (an explicit version needs none); GOFLAGS as the image build has them
  const r = await execa(go, ['mod', 'download', '-json', `${mod}@${version}`], {
    reject: false,
    env: { ...env, GOTOOLCHAIN: 'local', GOFLAGS: '-buildvcs=false' },
    cwd: IMAGES_DIR,
    timeout: 300_000,
  });
  let info: { Dir?: string; Error?: string } = {};
  try {
    info = JSON.parse(String(r.stdout)) as typeof info;
  } catch {
    // no JSON: the reason is on stderr
  }
  if (!info.Dir) {
    const why = info.Error ?? String(r.stderr).trim().split('\n').pop() ?? `exit ${r.exitCode}`;
    throw new EnvironmentError(`${mod}@${version} is not in the Go module cache and could not be downloaded from the Go module proxy: ${why}`);
  }
  return info.Dir;
}

export async function locateStackSources(env: NodeJS.ProcessEnv = process.env): Promise<StackSources> {
  const versions = await stackVersions(env);
  const go = locateSync('go', env) ?? ['/usr/local/go/bin/go'].find(isExecutable);
  if (!go) throw new EnvironmentError('go is needed to find the Envoy Gateway and AI Gateway manifests in the Go module cache (the image builds need it too): install Go 1.26 or newer.');
  const egDir = await moduleDir(go, versions.egModule, versions.envoyGateway, env);
  const aigDir = await moduleDir(go, versions.aigModule, versions.aiGateway, env);
  const egCrds = join(egDir, 'charts/gateway-helm/charts/crds/crds');
  const aigCrds = join(aigDir, 'manifests/charts/ai-gateway-crds-helm/templates');
  const yamlIn = async (dir: string) => (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort().map((f) => join(dir, f));
  return {
    versions,
    egDir,
    aigDir,
    crdFiles: [join(egCrds, 'gatewayapi-crds.yaml'), ...(await yamlIn(join(egCrds, 'generated'))), ...(await yamlIn(aigCrds))],
    envoyGatewayChart: join(egDir, 'charts/gateway-helm'),
    aiGatewayEgValuesFile: join(aigDir, 'manifests/envoy-gateway-values.yaml'),
    aiGatewayChart: join(aigDir, 'manifests/charts/ai-gateway-helm'),
  };
}

/**
 * Envoy Gateway's chart has no values.yaml in the module zip, only values.tmpl.yaml with the image
 * placeholders its release pipeline fills in: fill them the same way and pass the result as values
 * (the chart directory stays untouched in the read-only module cache).
 */
export async function envoyGatewayBaseValues(src: StackSources, gatewayImage: string): Promise<Record<string, unknown>> {
  const tmpl = await readFile(join(src.envoyGatewayChart, 'values.tmpl.yaml'), 'utf8');
  const filled = tmpl.replaceAll('${GatewayImage}', gatewayImage).replaceAll('${GatewayImagePullPolicy}', 'IfNotPresent');
  const left = filled.match(/\$\{[A-Za-z]+\}/);
  if (left) throw new Error(`${src.envoyGatewayChart}/values.tmpl.yaml has a placeholder this harness does not fill: ${left[0]}`);
  return parse(filled) as Record<string, unknown>;
}
