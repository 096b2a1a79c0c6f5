// The Station's ports: one PortState per port (shared/station/port-state.ts), moved only along
// PORT_TRANSITIONS, each change published as a 'port-state' event. A run owns its port through a
// run number: when the board leaves, the number moves on and that run's later moves are dropped,
// so a board that left can never be shown the previous run's result.
import { canMove, emptyPortState, isRunning, readyPortState, type BoardInfo, type PortPhase, type PortState } from '../../shared/station/port-state.ts';

export interface PortEntry {
  state: PortState;
  /** Bumped by every run and every plug / unplug: moves of an older run are dropped. */
  run: number;
  abort?: AbortController;
  /** The operator agreed to re-flash this unit on this board: a retry after a failure keeps that answer. */
  confirmedUnit?: number;
}

export class PortBoard {
  private readonly ports = new Map<string, PortEntry>();
  /** Where each unit was last seen, so a retry by unit and its label find their port. */
  private readonly unitPorts = new Map<number, string>();

  constructor(private readonly publish: (port: string, state: PortState) => void) {}

  /** The port's model. A port never seen is ready (the CLI names its port; no watcher tells us). */
  state(port: string): PortState {
    return this.ports.get(port)?.state ?? readyPortState(null);
  }

  entry(port: string): PortEntry {
    let e = this.ports.get(port);
    if (!e) this.ports.set(port, (e = { state: readyPortState(null), run: 0 }));
    return e;
  }

  /** Moves the port along PORT_TRANSITIONS (an illegal move is a bug: throws). `run`: only if that run still owns the port. */
  move(port: string, phase: PortPhase, patch: Partial<PortState> = {}, run?: number): void {
    const entry = this.entry(port);
    if (run !== undefined && entry.run !== run) return;
    if (!canMove(entry.state.phase, phase)) throw new Error(`internal: port ${entry.state.phase} → ${phase} is not a transition`);
    this.set(port, entry, { ...entry.state, ...patch, phase });
  }

  /** Changes the model without a move (progress, board, unit), if `run` still owns the port. */
  patch(port: string, patch: Partial<PortState>, run = this.entry(port).run): void {
    const entry = this.entry(port);
    if (entry.run !== run) return;
    this.set(port, entry, { ...entry.state, ...patch });
  }

  private set(port: string, entry: PortEntry, state: PortState): void {
    entry.state = state;
    if (state.unit) this.unitPorts.set(state.unit.id, port);
    this.publish(port, state);
  }

  /** A board arrived (fresh slot: nothing of an earlier board survives) or left (its run is cancelled). */
  changed(port: string, change: 'attached' | 'detached', board: BoardInfo | null): void {
    const entry = this.entry(port);
    entry.confirmedUnit = undefined;
    if (change === 'detached') {
      entry.run++;
      entry.abort?.abort();
      this.set(port, entry, emptyPortState());
    } else if (!isRunning(entry.state.phase)) {
      entry.run++;
      this.set(port, entry, readyPortState(board));
    }
  }

  /** The port whose board holds this unit right now. */
  portOfUnit(unitId: number): string | undefined {
    const port = this.unitPorts.get(unitId);
    return port !== undefined && this.ports.get(port)?.state.unit?.id === unitId ? port : undefined;
  }

  /** Where the unit was last seen (even if its board has left since). */
  lastPortOf(unitId: number): string | undefined {
    return this.unitPorts.get(unitId);
  }

  /** The ports with a run going on now. */
  runningPorts(): string[] {
    return [...this.ports.entries()].filter(([, e]) => isRunning(e.state.phase)).map(([p]) => p);
  }

  /** True while a run or a print is going on on any port. */
  get busy(): boolean {
    return [...this.ports.values()].some((e) => isRunning(e.state.phase) || e.state.phase === 'printing');
  }
}
