/**
 * Step Functions behind two small functions the research tools need: start an execution of the
 * optimisation state machine (lib/researchRunner.ts) and read an execution's status. The client is
 * created once by the caller and passed in. A name already used (Step Functions keeps names for 90
 * days) is reported as `null`, so the caller can try the next attempt's name.
 */
import { DescribeExecutionCommand, ExecutionAlreadyExists, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';

/** Starts an execution; null when the name was used before. */
export function sfnStarter(client: SFNClient, stateMachineArn: string): (name: string, input: unknown) => Promise<string | null> {
  return async (name, input) => {
    try {
      const r = await client.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
      return r.executionArn ?? null;
    } catch (e) {
      if (e instanceof ExecutionAlreadyExists) return null;
      throw e;
    }
  };
}

export interface ExecutionStatus {
  readonly status: string;
  readonly error?: string;
  readonly cause?: string;
}

/** The status of an execution (RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, ...). */
export async function executionStatus(client: SFNClient, executionArn: string): Promise<ExecutionStatus> {
  const r = await client.send(new DescribeExecutionCommand({ executionArn }));
  return { status: r.status ?? 'UNKNOWN', ...(r.error ? { error: r.error } : {}), ...(r.cause ? { cause: r.cause } : {}) };
}
