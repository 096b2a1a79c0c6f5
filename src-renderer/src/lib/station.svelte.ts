// Reactive station state for all screens (Svelte 5 runes). The tiles are a pure view of the main
// process's model (snapshot + 'port-state' events); the only things kept here are the operator's
// selection (a slot number: it never moves by itself), the label previews fetched for display,
// and the last message of a call.
import type { AppEvent, AppSnapshot, ProvisionResult, SlotTile } from '../../../shared/ipc.ts';
import { api, errorText } from './api.ts';
import { hasLabel } from './words.ts';

class StationState {
  snapshot = $state<AppSnapshot | null>(null);
  /** The selected slot number; null until the operator picks one (or the bench has one tile). */
  selected = $state<number | null>(null);
  /** A message for the whole app (bridge missing, unexpected error). */
  notice = $state<string | null>(null);
  /** A message about the last action on a tile, by slot (e.g. a refused request). */
  tileMessage = $state<Record<number, string>>({});
  /** Label previews (with the setup code, for display only), by unit id. */
  labels = $state<Record<number, ProvisionResult>>({});
  /** Verifiers checked so far by a running manifest import (Settings → Identity pool). */
  poolCheck = $state<{ done: number; total: number } | null>(null);

  get tiles(): SlotTile[] {
    return this.snapshot?.tiles ?? [];
  }

  tile(slot: number | null): SlotTile | null {
    return slot === null ? null : (this.tiles.find((t) => t.slot === slot) ?? null);
  }

  get selectedTile(): SlotTile | null {
    return this.tile(this.selected) ?? (this.tiles.length === 1 ? this.tiles[0]! : null);
  }

  async start(): Promise<void> {
    try {
      api.onEvent((e) => this.onEvent(e));
      this.setSnapshot(await api.getSnapshot());
    } catch (err) {
      this.notice = errorText(err);
    }
  }

  setSnapshot(s: AppSnapshot): void {
    this.snapshot = s;
    if (this.selected === null && s.tiles.length > 0) this.selected = s.tiles[0]!.slot;
    for (const t of s.tiles) this.wantLabel(t);
  }

  select(slot: number): void {
    if (this.tile(slot)) this.selected = slot;
  }

  private onEvent(e: AppEvent): void {
    switch (e.type) {
      case 'snapshot':
        this.setSnapshot(e.snapshot);
        break;
      case 'port-state': {
        const t = this.tiles.find((x) => x.path === e.port);
        if (t) {
          t.state = e.state;
          if (e.state.phase === 'detect') delete this.tileMessage[t.slot];
          this.wantLabel(t);
        }
        break;
      }
      case 'registry':
        // The database went away or came back: one message for the whole app (the tiles say "waiting").
        if (this.snapshot) this.snapshot.database = { ...this.snapshot.database, online: e.state.online, message: e.state.online ? null : e.state.message };
        break;
      case 'pool-import':
        this.poolCheck = { done: e.done, total: e.total };
        break;
      default:
        break;
    }
  }

  /** Fetches the label preview of a tile's verified unit once. */
  private wantLabel(t: SlotTile): void {
    const id = t.state.unit?.id;
    if (id === undefined || !hasLabel(t.state) || this.labels[id]) return;
    void api.getLabel(id).then(
      (r) => (this.labels[id] = r),
      (err) => (this.notice = errorText(err)),
    );
  }

  labelOf(t: SlotTile | null): ProvisionResult | null {
    const id = t?.state.unit?.id;
    return id !== undefined && t && hasLabel(t.state) ? (this.labels[id] ?? null) : null;
  }

  /** Runs a call for a tile; a refusal is shown on that tile (its state comes from main). */
  private async act(t: SlotTile, call: () => Promise<unknown>): Promise<void> {
    delete this.tileMessage[t.slot];
    try {
      await call();
    } catch (err) {
      this.tileMessage[t.slot] = errorText(err);
    }
  }

  provision(t: SlotTile): Promise<void> {
    return this.act(t, () => api.provisionNext(t.path));
  }

  retry(t: SlotTile): Promise<void> {
    return this.act(t, () => api.retry(t.path));
  }

  confirmReflash(t: SlotTile): Promise<void> {
    return this.act(t, () => api.confirmReflash(t.path));
  }

  declineReflash(t: SlotTile): Promise<void> {
    return this.act(t, () => api.declineReflash(t.path));
  }

  printAgain(t: SlotTile): Promise<void> {
    const id = t.state.unit?.id;
    if (id === undefined) return Promise.resolve();
    return this.act(t, () => api.printLabel(id));
  }

  /** The primary action of a tile: what Enter does when it is selected. */
  primary(t: SlotTile): Promise<void> | undefined {
    if (!t.plugged) return undefined;
    switch (t.state.phase) {
      case 'ready':
      case 'done':
        return this.provision(t);
      case 'failed':
        return this.retry(t);
      case 'print-failed':
      case 'label-pending':
        return this.printAgain(t);
      default:
        return undefined;
    }
  }

  async provisionAllReady(): Promise<void> {
    try {
      await api.provisionAllReady();
    } catch (err) {
      this.notice = errorText(err);
    }
  }

  async scan(t: SlotTile | null, text: string): Promise<void> {
    if (!t) {
      this.notice = 'A label was scanned but no slot is selected: press the slot number first, then scan.';
      return;
    }
    await this.act(t, async () => {
      const r = await api.scanLabel(t.path, text);
      if (!r.ok) this.tileMessage[t.slot] = r.message;
    });
  }
}

export const station = new StationState();
