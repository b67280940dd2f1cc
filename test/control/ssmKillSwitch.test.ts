import { GetParameterCommand, ParameterNotFound, PutParameterCommand, SSMClient, ThrottlingException } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { KillSwitch, KillSwitchReadError, KillSwitchWriteError, type KillSwitchProblem } from '../../services/control/killSwitch.js';
import { MAX_SSM_DESCRIPTION, SsmKillSwitchSource } from '../../services/adapters/ssm/ssmKillSwitch.js';

const NAME = '/mexc-sr/prod/kill-switch';
const ssm = mockClient(SSMClient);
const client = new SSMClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });

beforeEach(() => ssm.reset());
afterAll(() => ssm.restore());

describe('SsmKillSwitchSource.read', () => {
  it('returns the parameter value, asked by name', async () => {
    ssm.on(GetParameterCommand, { Name: NAME }).resolves({ Parameter: { Name: NAME, Value: 'PAUSED', Type: 'String' } });
    expect(await new SsmKillSwitchSource(client, NAME).read()).toEqual({ value: 'PAUSED' });
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(1);
  });

  it('a missing parameter is an unusable reading (PAUSED in the switch), not an error', async () => {
    ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'not found', $metadata: {} }));
    const reading = await new SsmKillSwitchSource(client, NAME).read();
    expect(reading.problem).toBe(`SSM parameter ${NAME} does not exist`);
    const problems: KillSwitchProblem[] = [];
    const ks = new KillSwitch(new SsmKillSwitchSource(client, NAME), { now: () => 0, onProblem: (p) => problems.push(p) });
    expect(await ks.current()).toBe('PAUSED');
    expect(problems[0]).toMatchObject({ kind: 'invalid_value', detail: `SSM parameter ${NAME} does not exist` });
  });

  it('throttling is a retryable read failure, which the switch rides out on its last good value', async () => {
    const throttled = new ThrottlingException({ message: 'Rate exceeded', Message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } });
    ssm.on(GetParameterCommand).resolvesOnce({ Parameter: { Value: 'RUNNING' } }).rejects(throttled);
    const src = new SsmKillSwitchSource(client, NAME);
    let t = 0;
    const ks = new KillSwitch(src, { now: () => t, maxStaleMs: 60_000 });
    expect(await ks.current()).toBe('RUNNING');
    t = 5000;
    expect(await ks.current()).toBe('RUNNING');
    const err = await src.read().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KillSwitchReadError);
    expect((err as KillSwitchReadError).retryable).toBe(true);
    expect((err as KillSwitchReadError).cause).toBe(throttled);
  });

  it('a 5xx is retryable, access denied is not (both are read failures)', async () => {
    const src = new SsmKillSwitchSource(client, NAME);
    const fault = Object.assign(new Error('boom'), { name: 'InternalServerError', $metadata: { httpStatusCode: 500 } });
    ssm.on(GetParameterCommand).rejectsOnce(fault).rejectsOnce(Object.assign(new Error('no'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }));
    const a = (await src.read().catch((e: unknown) => e)) as KillSwitchReadError;
    const b = (await src.read().catch((e: unknown) => e)) as KillSwitchReadError;
    expect([a.retryable, b.retryable]).toEqual([true, false]);
    expect(b.message).toContain('AccessDeniedException');
  });

  it('a typo in the parameter comes back as is, for the switch to treat as PAUSED', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: 'PAUSE' } });
    const ks = new KillSwitch(new SsmKillSwitchSource(client, NAME), { now: () => 0 });
    expect(await ks.current()).toBe('PAUSED');
  });
});

describe('SsmKillSwitchSource.write', () => {
  it('PutParameter with Overwrite, String type and the reason as description', async () => {
    ssm.on(PutParameterCommand).resolves({ Version: 7 });
    await new SsmKillSwitchSource(client, NAME).write('EMERGENCY_STOP', 'risk sweep: weekly loss limit');
    const calls = ssm.commandCalls(PutParameterCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({
      Name: NAME,
      Value: 'EMERGENCY_STOP',
      Type: 'String',
      Overwrite: true,
      Description: 'risk sweep: weekly loss limit',
    });
  });

  it('cuts a long reason to SSM limit and omits an empty one', async () => {
    ssm.on(PutParameterCommand).resolves({});
    const src = new SsmKillSwitchSource(client, NAME);
    await src.write('PAUSED', 'r'.repeat(5000));
    await src.write('RUNNING', '');
    const [a, b] = ssm.commandCalls(PutParameterCommand).map((c) => c.args[0].input);
    expect(a!.Description).toHaveLength(MAX_SSM_DESCRIPTION);
    expect(b).not.toHaveProperty('Description');
  });

  it('a failed write throws KillSwitchWriteError with the cause', async () => {
    const denied = Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' });
    ssm.on(PutParameterCommand).rejects(denied);
    const err = await new SsmKillSwitchSource(client, NAME).write('PAUSED', 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KillSwitchWriteError);
    expect((err as Error).cause).toBe(denied);
    expect((err as Error).message).toContain(NAME);
  });
});

describe('SsmKillSwitchSource timeouts', () => {
  it('a GetParameter that never answers is a retryable read failure after timeoutMs, and the request is aborted', async () => {
    ssm.on(GetParameterCommand).callsFake(() => new Promise(() => undefined));
    // aws-sdk-client-mock replaces send and ignores the abort signal: capture it on the way in.
    let signal: AbortSignal | undefined;
    const spying = {
      send: (cmd: GetParameterCommand, opts: { abortSignal?: AbortSignal }) => {
        signal = opts.abortSignal;
        return client.send(cmd, opts);
      },
    } as unknown as SSMClient;
    const err = (await new SsmKillSwitchSource(spying, NAME, { timeoutMs: 20 }).read().catch((e: unknown) => e)) as KillSwitchReadError;
    expect(err).toBeInstanceOf(KillSwitchReadError);
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('no answer from SSM within 20 ms');
    expect(signal?.aborted).toBe(true);
  });
});

describe('who changed it', () => {
  it("reads the newest version's description from the history when the value changes, and only then", async () => {
    const { GetParameterHistoryCommand } = await import('@aws-sdk/client-ssm');
    ssm.reset();
    ssm.on(GetParameterCommand).resolvesOnce({ Parameter: { Value: 'RUNNING', Version: 1 } }).resolvesOnce({ Parameter: { Value: 'RUNNING', Version: 1 } }).resolves({ Parameter: { Value: 'PAUSED', Version: 2 } });
    ssm
      .on(GetParameterHistoryCommand)
      .resolvesOnce({ Parameters: [{ Version: 1, Description: 'created by the stack' }] })
      .resolvesOnce({ Parameters: [{ Version: 1, Description: 'created by the stack' }], NextToken: 'p2' })
      .resolvesOnce({ Parameters: [{ Version: 2, Description: 'telegram 42 @ana: /pause' }] });
    const src = new SsmKillSwitchSource(new SSMClient({ region: 'us-east-1' }), NAME);
    expect(await src.read()).toEqual({ value: 'RUNNING', reason: 'created by the stack' });
    expect(await src.read()).toEqual({ value: 'RUNNING', reason: 'created by the stack' });
    expect(ssm.commandCalls(GetParameterHistoryCommand)).toHaveLength(1);
    // Changed: the history is paged to its end for the newest version's description.
    expect(await src.read()).toEqual({ value: 'PAUSED', reason: 'telegram 42 @ana: /pause' });
    expect(ssm.commandCalls(GetParameterHistoryCommand)).toHaveLength(3);
  });

  it('a failing history read costs only the reason', async () => {
    const { GetParameterHistoryCommand } = await import('@aws-sdk/client-ssm');
    ssm.reset();
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: 'PAUSED', Version: 3 } });
    ssm.on(GetParameterHistoryCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    expect(await new SsmKillSwitchSource(new SSMClient({ region: 'us-east-1' }), NAME).read()).toEqual({ value: 'PAUSED' });
  });
});
