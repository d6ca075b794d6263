// Documented metric names, read from a real chart file (the litellm-proxy fixture's NOTES.txt lists
// the names the upstream chart's NOTES.txt documents).
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { documentedMetrics, listedNames } from '../scripts/chart-docs.ts';
import { CHARTS_DIR } from '../scripts/images/index.ts';

describe('documented metric names', () => {
  test('list items starting with the prefix, once each; prose and settings keys are not names', () => {
    const text = [
      'Key metrics:',
      '  - litellm_total_requests         (total request count)',
      '  * litellm_request_duration',
      '  - litellm_total_requests',
      '  - Confirm litellm_settings.callbacks includes "prometheus"',
      'litellm_not_a_list_item 1',
      '  - litellm_settings.callbacks',
    ].join('\n');
    expect(listedNames(text, 'litellm_')).toEqual(['litellm_total_requests', 'litellm_request_duration']);
  });

  test("the litellm-proxy fixture's NOTES.txt", async () => {
    const doc = await documentedMetrics(join(CHARTS_DIR, 'litellm-proxy'), { file: 'templates/NOTES.txt', prefix: 'litellm_' }, 'fixture litellm-proxy');
    expect(doc).toEqual({
      source: 'fixture litellm-proxy templates/NOTES.txt',
      names: ['litellm_total_requests', 'litellm_request_duration', 'litellm_llm_api_failed_calls', 'litellm_deployment_latency', 'litellm_remaining_team_budget'],
    });
    expect(await documentedMetrics('/nonexistent', { file: 'templates/NOTES.txt', prefix: 'litellm_' }, 'x')).toBeUndefined();
  });
});
