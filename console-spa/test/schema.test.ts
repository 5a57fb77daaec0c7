import { describe, expect, it } from 'vitest';
import type { AuditView, ObjectSchema } from '../src/api';
import { requestKey, saveAllowed, storedSecrets, type TestResult, waiting } from '../src/audit';
import { canonicalJson, configOf, draftOf, fieldsOf, labelOf } from '../src/schema';

/** Shaped like an S3 sink's schema: every kind of field the renderer supports. */
const s3: ObjectSchema = {
  title: 'S3-compatible object storage',
  required: ['bucket', 'access_key_id', 'secret_access_key'],
  properties: {
    endpoint: { type: 'string', format: 'uri', title: 'Endpoint' },
    bucket: { type: 'string', title: 'Bucket' },
    region: { type: 'string', default: 'us-east-1' },
    access_key_id: { type: 'string' },
    secret_access_key: { type: 'string', writeOnly: true },
    compression: { type: 'string', enum: ['none', 'gzip'], default: 'gzip' },
    part_size_mb: { type: 'integer', minimum: 5, maximum: 100, default: 8 },
    flush_seconds: { type: 'number', minimum: 0.5 },
    path_style: { type: 'boolean', default: true },
    server_side_encryption: { type: 'boolean' },
    tags: { type: 'array', items: { type: 'string' } },
    ports: { type: 'array', items: { type: 'integer' } },
    headers: { type: 'object' },
  },
};

const filled = {
  ...draftOf(s3),
  bucket: '  audit-logs ',
  access_key_id: 'AKIA1',
  secret_access_key: ' s3cr3t ',
};

describe('the schema form', () => {
  it('picks an input for each property type', () => {
    expect(Object.fromEntries(fieldsOf(s3).map((f) => [f.name, f.kind]))).toEqual({
      endpoint: 'url',
      bucket: 'text',
      region: 'text',
      access_key_id: 'text',
      secret_access_key: 'text',
      compression: 'select',
      part_size_mb: 'integer',
      flush_seconds: 'number',
      path_style: 'boolean',
      server_side_encryption: 'boolean',
      tags: 'list',
      ports: 'list',
      headers: 'json',
    });
    const secret = fieldsOf(s3).find((f) => f.name === 'secret_access_key')!;
    expect(secret).toMatchObject({ secret: true, required: true });
  });

  it('starts empty where the server has a default, with checkboxes at their defaults', () => {
    expect(draftOf(s3)).toEqual({
      endpoint: '', bucket: '', region: '', access_key_id: '', secret_access_key: '', compression: '',
      part_size_mb: '', flush_seconds: '', path_style: true, server_side_encryption: false, tags: '', ports: '',
      headers: '',
    });
  });

  it('starts from the stored configuration, but never fills in a credential', () => {
    const draft = draftOf(s3, {
      bucket: 'b', part_size_mb: 16, path_style: false, tags: ['a', 'b'], headers: { x: '1' },
      secret_access_key: 'leaked?',
    });
    expect(draft).toMatchObject({
      bucket: 'b', part_size_mb: '16', path_style: false, tags: 'a\nb', secret_access_key: '',
    });
    expect(JSON.parse(draft.headers as string)).toEqual({ x: '1' });
  });

  it('leaves empty fields out, so the defaults apply on the server', () => {
    expect(configOf(s3, filled)).toEqual({
      config: {
        bucket: 'audit-logs',
        access_key_id: 'AKIA1',
        secret_access_key: ' s3cr3t ', // a credential is sent exactly as typed
        path_style: true,
        server_side_encryption: false,
      },
    });
  });

  it('sends numbers as numbers, booleans as booleans and lists as arrays', () => {
    const result = configOf(s3, {
      ...filled,
      compression: 'none',
      part_size_mb: ' 16 ',
      flush_seconds: '2.5',
      path_style: false,
      server_side_encryption: true,
      tags: 'team-a\n\n  prod  \n',
      ports: '9092\n9093',
      headers: '{"x-audit": "1"}',
    });
    expect(result).toEqual({
      config: {
        bucket: 'audit-logs',
        access_key_id: 'AKIA1',
        secret_access_key: ' s3cr3t ',
        compression: 'none',
        part_size_mb: 16,
        flush_seconds: 2.5,
        path_style: false,
        server_side_encryption: true,
        tags: ['team-a', 'prod'],
        ports: [9092, 9093],
        headers: { 'x-audit': '1' },
      },
    });
  });

  it('keeps an enum value typed as the schema has it', () => {
    const schema: ObjectSchema = { properties: { acks: { type: 'integer', enum: [0, 1, -1] } } };
    expect(fieldsOf(schema)[0].kind).toBe('select');
    expect(configOf(schema, { acks: '-1' })).toEqual({ config: { acks: -1 } });
  });

  it('names what is wrong with each field instead of sending it', () => {
    const result = configOf(s3, {
      ...filled,
      bucket: ' ',
      part_size_mb: '7.5',
      flush_seconds: '0.1',
      ports: '9092\nx',
      headers: '{nope',
    });
    expect(result).toEqual({
      problems: {
        bucket: { code: 'required' },
        part_size_mb: { code: 'integer' },
        flush_seconds: { code: 'minimum', limit: 0.5 },
        ports: { code: 'number' },
        headers: { code: 'json' },
      },
    });
    expect(configOf(s3, { ...filled, part_size_mb: '101' })).toEqual({
      problems: { part_size_mb: { code: 'maximum', limit: 100 } },
    });
  });

  it('leaves a stored credential out when its input is empty, and asks for one that is not stored', () => {
    const empty = { ...filled, secret_access_key: '' };
    expect(configOf(s3, empty)).toEqual({ problems: { secret_access_key: { code: 'required' } } });
    const kept = configOf(s3, empty, ['secret_access_key']);
    expect(kept).toEqual({
      config: { bucket: 'audit-logs', access_key_id: 'AKIA1', path_style: true, server_side_encryption: false },
    });
    // a new credential typed over a stored one is sent
    expect(configOf(s3, { ...filled, secret_access_key: 'new' }, ['secret_access_key'])).toMatchObject({
      config: { secret_access_key: 'new' },
    });
  });

  it('writes JSON with sorted keys, so key order does not matter', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}');
  });
});

describe('saving audit settings', () => {
  const request = { sink: 's3', config: { bucket: 'b', part_size_mb: 8 } };
  const key = requestKey(request);
  const passed: TestResult = { key, ok: true };

  it('is allowed only after a passing test of exactly the current values', () => {
    expect(saveAllowed(null, key)).toBe(false);
    expect(saveAllowed(passed, key)).toBe(true);
    expect(saveAllowed(passed, requestKey({ sink: 's3', config: { part_size_mb: 8, bucket: 'b' } }))).toBe(true);
    expect(saveAllowed({ key, ok: false, message: 'the test connection failed: denied', kind: 'AUTH' }, key)).toBe(false);
  });

  it('is refused again after any edit, a change of sink, or values that cannot be sent', () => {
    expect(saveAllowed(passed, requestKey({ sink: 's3', config: { bucket: 'b', part_size_mb: 9 } }))).toBe(false);
    expect(saveAllowed(passed, requestKey({ sink: 's3', config: { bucket: 'b', part_size_mb: '8' } }))).toBe(false);
    expect(saveAllowed(passed, requestKey({ sink: 's3', config: { bucket: 'b' } }))).toBe(false);
    expect(saveAllowed(passed, requestKey({ sink: 'kafka', config: request.config }))).toBe(false);
    expect(saveAllowed(passed, null)).toBe(false);
  });

  it('follows the form from a draft: typing a credential after the test needs a new test', () => {
    const draft = { ...filled, secret_access_key: '' };
    const keyOf = (d: typeof draft) => {
      const built = configOf(s3, d, ['secret_access_key']);
      return 'config' in built ? requestKey({ sink: 's3', config: built.config }) : null;
    };
    const tested: TestResult = { key: keyOf(draft)!, ok: true };
    expect(saveAllowed(tested, keyOf(draft))).toBe(true);
    expect(saveAllowed(tested, keyOf({ ...draft, secret_access_key: 'x' }))).toBe(false);
    expect(saveAllowed(tested, keyOf({ ...draft, bucket: '' }))).toBe(false);
  });

  it('keeps stored credentials only for the sink they were stored for', () => {
    const view: AuditView = {
      configured: true, enabled: true, sink: 's3', config: {}, secrets_set: ['secret_access_key'],
      updated_at: '2026-12-02T07:00:00.000000Z',
      status: { delivered: 1, dropped: 0, last_error: null, last_error_at: null, last_delivered_at: null },
    };
    expect(storedSecrets(view, 's3')).toEqual(['secret_access_key']);
    expect(storedSecrets(view, 'kafka')).toEqual([]);
    expect(storedSecrets({ configured: false, enabled: false }, 's3')).toEqual([]);
    expect(storedSecrets(null, 's3')).toEqual([]);
  });

  it('counts what waits as the queued records and the spooled batches', () => {
    const status = { delivered: 0, dropped: 0, last_error: null, last_error_at: null, last_delivered_at: null };
    expect(waiting(status)).toBeNull();
    expect(waiting({ ...status, queued_records: 3, spooled_batches: 2, spool_bytes: 10 })).toEqual({ records: 3, batches: 2 });
  });
});

describe('labelOf', () => {
  it('turns a property name without a title into words, acronyms upper case', () => {
    expect(labelOf('path_style')).toBe('Path style');
    expect(labelOf('sse_kms_key_id')).toBe('SSE KMS key id');
    expect(labelOf('bucket')).toBe('Bucket');
    expect(labelOf('sasl_password')).toBe('SASL password');
    expect(labelOf('timeout_ms')).toBe('Timeout ms');
  });
});
