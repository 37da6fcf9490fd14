import type { Observable } from 'rxjs';
import type { Supervisor } from '../supervisor.js';
import type { ProcessRow } from '../io/os/process-table.js';
import type { BerthEvent, ContainerInfo, ContainerSpec, ContainerStats, CreateOptions, EventsQuery, ExecOptions, ExitInfo, LinuxResources, StopOptions } from '../types.js';

/** What the CLI needs from a supervisor, whether it runs in this process or in `berth daemon`. */
export interface Backend {
  create(options: CreateOptions): Promise<void>;
  start(id: string): Promise<{ pid: number }>;
  exec(id: string, options: ExecOptions): Promise<{ pid: number }>;
  signal(id: string, processId: string, signal: string | number): Promise<void>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  delete(id: string, options?: { force?: boolean }): Promise<void>;
  wait(id: string, processId?: string): Promise<ExitInfo>;
  stop(id: string, options?: StopOptions): Promise<ExitInfo>;
  list(): Promise<ContainerInfo[]>;
  get(id: string): Promise<ContainerInfo>;
  logs(id: string, processId?: string, options?: { tailBytes?: number }): Promise<string>;
  events(query: EventsQuery): Observable<BerthEvent>;
  viewerUrl(): Promise<string | undefined>;
  update(id: string, resources: LinuxResources): Promise<void>;
  stats(id: string): Promise<ContainerStats>;
  top(id: string): Promise<ProcessRow[]>;
  spec(id: string): Promise<ContainerSpec>;
  /** Ends this command's use of the supervisor; containers keep running. */
  close(): Promise<void>;
}

/** The methods forwarded by name to a supervisor this command opened itself (everything but `events` and `close`; a daemon serves each as an HTTP route). */
export const RPC_METHODS = ['create', 'start', 'exec', 'signal', 'pause', 'resume', 'delete', 'wait', 'stop', 'list', 'get', 'logs', 'viewerUrl', 'update', 'stats', 'top', 'spec'] as const;
export type RpcMethod = (typeof RPC_METHODS)[number];

/** Runs one of those methods on an open supervisor, for a command that opened the state dir itself. */
export async function invoke(sv: Supervisor, method: RpcMethod, args: unknown[]): Promise<unknown> {
  if (method === 'viewerUrl') return sv.viewerUrl;
  return (sv[method] as (...a: unknown[]) => unknown)(...args);
}

/** A Backend's RPC methods, each forwarded to `call` by name. */
export function rpcMethods(call: (method: RpcMethod, args: unknown[]) => Promise<unknown>): Pick<Backend, RpcMethod> {
  return Object.fromEntries(RPC_METHODS.map((method) => [method, (...args: unknown[]) => call(method, args)])) as unknown as Pick<Backend, RpcMethod>;
}
