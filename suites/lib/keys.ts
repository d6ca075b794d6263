// Client credentials per key-API flavour: how each chart turns the admin credential into a key.
import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import type { KeyApi } from '../../scripts/profiles/types.ts';
import type { Target } from '../../scripts/targets/types.ts';
import { describe as describeRes, http } from './http.ts';

export interface ClientKey {
  key: string;
  /** What deleting it needs (LiteLLM: the key; llm-proxy: the token id). */
  handle: string;
}

export interface KeyOptions {
  /** LiteLLM rpm_limit / llm-proxy max_requests. */
  limit?: number;
}

export class AdminRefused extends Error {}

/** A run-unique name, so re-runs never share a key, a project or a rate-limit window. */
export const runId = () => `smoke-${Date.now().toString(36)}-${randomUUID().slice(0, 6)}`;

export async function createKey(api: KeyApi, target: Target, opts: KeyOptions = {}, adminKey = target.adminKey): Promise<ClientKey> {
  if (api.flavour === 'litellm') {
    const body: Record<string, unknown> = { key_alias: runId(), models: [target.model] };
    if (opts.limit !== undefined) body['rpm_limit'] = opts.limit;
    const res = await http('POST', `${target.baseUrl}${api.generatePath}`, { token: adminKey, body });
    if (res.status === 401 || res.status === 403) throw new AdminRefused(`the admin credential was refused by ${api.generatePath}: ${describeRes(res)}`);
    const key = (res.json as { key?: string } | undefined)?.key;
    if (res.status !== 200 || !key) throw new Error(`POST ${api.generatePath} did not return a key: ${describeRes(res)}`);
    return { key, handle: key };
  }
  // llm-proxy: a project holds the provider key; a token belongs to a project.
  const project = await http('POST', `${target.baseUrl}/manage/projects`, {
    token: adminKey,
    body: { name: runId(), api_key: target.mock?.providerKey ?? 'sk-provider-not-known' },
  });
  if (project.status === 401 || project.status === 403) throw new AdminRefused(`the management token was refused by /manage/projects: ${describeRes(project)}`);
  const projectId = (project.json as { id?: string } | undefined)?.id;
  if (project.status >= 300 || !projectId) throw new Error(`POST /manage/projects did not return an id: ${describeRes(project)}`);
  const tokenBody: Record<string, unknown> = { project_id: projectId, duration_minutes: 60 };
  if (opts.limit !== undefined) tokenBody['max_requests'] = opts.limit;
  const token = await http('POST', `${target.baseUrl}/manage/tokens`, { token: adminKey, body: tokenBody });
  const t = token.json as { token?: string; id?: string; token_id?: string } | undefined;
  if (token.status >= 300 || !t?.token) throw new Error(`POST /manage/tokens did not return a token: ${describeRes(token)}`);
  return { key: t.token, handle: t.id ?? t.token_id ?? t.token };
}

export async function deleteKey(api: KeyApi, target: Target, key: ClientKey): Promise<void> {
  const res =
    api.flavour === 'litellm'
      ? await http('POST', `${target.baseUrl}${api.deletePath}`, { token: target.adminKey, body: { keys: [key.handle] } })
      : await http('DELETE', `${target.baseUrl}/manage/tokens/${encodeURIComponent(key.handle)}`, { token: target.adminKey });
  // The gateway's own answer, quoted: a 500 here is a defect of the gateway, and the body says which.
  const call = api.flavour === 'litellm' ? `POST ${api.deletePath}` : 'DELETE /manage/tokens/{id}';
  if (res.status >= 300) throw new Error(`deleting the key failed: ${call} answered HTTP ${res.status}: ${res.text.slice(0, 600).replace(/\s+/g, ' ')}`);
}

/** The official SDK as a real client would use it, but with retries off: a retry hides a 429. */
export function openai(target: Target, apiKey: string, baseUrl = target.baseUrl): OpenAI {
  return new OpenAI({ apiKey, baseURL: `${baseUrl}/v1`, maxRetries: 0, timeout: 60_000 });
}
