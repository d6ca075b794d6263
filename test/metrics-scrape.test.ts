// suites/lib/metrics.ts on the exposition format the AI Gateway extproc writes: histograms with
// one label set per token type, whose _count/_sum the text-format parser folds away.
import { expect, test } from 'vitest';
import { decreased, parseScrape, sumWhere } from '../suites/lib/metrics.ts';

const TEXT = `# HELP gen_ai_client_token_usage Number of input and output tokens used.
# TYPE gen_ai_client_token_usage histogram
gen_ai_client_token_usage_bucket{gen_ai_operation_name="chat",gen_ai_token_type="input",le="1"} 0
gen_ai_client_token_usage_bucket{gen_ai_operation_name="chat",gen_ai_token_type="input",le="+Inf"} 3
gen_ai_client_token_usage_sum{gen_ai_operation_name="chat",gen_ai_token_type="input"} 27
gen_ai_client_token_usage_count{gen_ai_operation_name="chat",gen_ai_token_type="input"} 3
gen_ai_client_token_usage_bucket{gen_ai_operation_name="chat",gen_ai_token_type="output",le="+Inf"} 3
gen_ai_client_token_usage_sum{gen_ai_operation_name="chat",gen_ai_token_type="output"} 300
gen_ai_client_token_usage_count{gen_ai_operation_name="chat",gen_ai_token_type="output"} 3
# TYPE gen_ai_server_request_duration_seconds histogram
gen_ai_server_request_duration_seconds_bucket{error_type="",le="+Inf"} 3
gen_ai_server_request_duration_seconds_sum{error_type=""} 0.25
gen_ai_server_request_duration_seconds_count{error_type=""} 3
gen_ai_server_request_duration_seconds_sum{error_type="429 \\"quoted\\""} 0.01
gen_ai_server_request_duration_seconds_count{error_type="429 \\"quoted\\""} 1
# TYPE requests_total counter
requests_total{code="200"} 5
`;

test('histogram _count/_sum are totals and labelled samples; counters as before', () => {
  const s = parseScrape(TEXT);
  expect(s.totals.get('gen_ai_server_request_duration_seconds_count')).toBe(4);
  expect(s.totals.get('gen_ai_client_token_usage_count')).toBe(6);
  expect(s.totals.get('requests_total')).toBe(5);
  expect(sumWhere(s, 'gen_ai_client_token_usage_sum', 'gen_ai_token_type', 'input')).toBe(27);
  expect(sumWhere(s, 'gen_ai_client_token_usage_sum', 'gen_ai_token_type', 'output')).toBe(300);
  expect(sumWhere(s, 'gen_ai_server_request_duration_seconds_count', 'error_type', '429 "quoted"')).toBe(1);
  // buckets are not samples of their own
  expect(s.samples.some((x) => x.name.endsWith('_bucket'))).toBe(false);
  expect(s.families.has('gen_ai_client_token_usage_sum')).toBe(true);
});

test('a histogram count going down is reported', () => {
  const after = parseScrape(TEXT.replace('_count{error_type=""} 3', '_count{error_type=""} 2'));
  expect(decreased(parseScrape(TEXT), after, ['gen_ai_server_request_duration_seconds_count'])).toEqual([
    'gen_ai_server_request_duration_seconds_count{"error_type":""}: 3 → 2',
  ]);
});
