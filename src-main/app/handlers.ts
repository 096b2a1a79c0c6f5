// IPC method → service call, with every argument checked. No Electron here: main.ts registers
// these on ipcMain (after the sender check), and the UI test exposes the very same functions to
// Chromium through page.exposeBinding.
import { STATION_METHODS, type IpcResult, type StationHandlers, type StationMethod } from '../../shared/ipc.ts';
import type { LabelSpec } from '../../shared/label/index.ts';
import type { ProfileDraft } from '../../shared/ipc.ts';
import type { AppCore } from './app-core.ts';
import { toIpcError } from './errors.ts';
import * as v from './validate.ts';

/** The ports a port argument may name: the ones the bench shows in a slot right now. */
function knownPort(core: AppCore, value: unknown): string {
  const path = v.portPath(value);
  if (!core.snapshot().tiles.some((t) => t.path === path && path !== '')) throw new v.ValidationError('port', 'is not a connected port');
  return path;
}

function argsOf(args: unknown[], count: number, max = count): unknown[] {
  v.expectArgCount(args, count, max);
  return args;
}

/**
 * Handlers that take the raw argument list (as it arrives over IPC) and validate it.
 * Typed as StationHandlers so the contract in shared/ipc.ts is enforced at compile time.
 */
export function createHandlers(core: AppCore): StationHandlers {
  const h: StationHandlers = {
    async getSnapshot(...a) {
      argsOf(a, 0);
      await core.refresh();
      return core.snapshot();
    },
    async provisionNext(...a) {
      const [port] = argsOf(a, 1);
      return core.provisionNext(knownPort(core, port));
    },
    async confirmReflash(...a) {
      const [port] = argsOf(a, 1);
      return core.confirmReflash(knownPort(core, port));
    },
    async declineReflash(...a) {
      const [port] = argsOf(a, 1);
      core.declineReflash(knownPort(core, port));
    },
    async retry(...a) {
      const [port] = argsOf(a, 1);
      return core.retry(knownPort(core, port));
    },
    async provisionAllReady(...a) {
      argsOf(a, 0);
      return core.provisionAllReady();
    },
    async scanLabel(...a) {
      const [port, text] = argsOf(a, 2);
      return core.scanLabel(knownPort(core, port), v.scanText(text));
    },
    async listAttempts(...a) {
      const [filter] = argsOf(a, 1);
      return core.history.listAttempts(v.attemptFilter(filter));
    },
    async listStations(...a) {
      argsOf(a, 0);
      return core.history.listStations();
    },
    async lineCounts(...a) {
      const [query] = argsOf(a, 1);
      return core.history.lineCounts(v.lineQuery(query));
    },
    async setDatabase(...a) {
      const [location] = argsOf(a, 1);
      return core.setDatabase(v.databaseLocation(location));
    },
    async saveSlots(...a) {
      const [slots] = argsOf(a, 1);
      return core.saveSlots(v.slotList(v.jsonData(slots, 'slots', 100_000)));
    },
    async forgetSlot(...a) {
      const [key] = argsOf(a, 1);
      return core.forgetSlot(v.slotKey(key));
    },
    async resetShift(...a) {
      argsOf(a, 0);
      return core.resetShift();
    },
    async printLabel(...a) {
      const [id] = argsOf(a, 1);
      return core.printLabel(v.unitId(id));
    },
    async getLabel(...a) {
      const [id] = argsOf(a, 1);
      return core.getLabel(v.unitId(id));
    },
    async listUnits(...a) {
      const [filter] = argsOf(a, 1);
      return core.history.listUnits(v.historyFilter(filter));
    },
    async exportManifest(...a) {
      argsOf(a, 0);
      return core.history.exportManifest();
    },
    async importPool(...a) {
      argsOf(a, 0);
      return core.importPool();
    },
    async setSettings(...a) {
      const [patch] = argsOf(a, 1);
      return core.setSettings(v.settingsPatch(patch));
    },
    async listProfiles(...a) {
      argsOf(a, 0);
      return core.listProfiles();
    },
    async getProfile(...a) {
      const [file] = argsOf(a, 1);
      return core.getProfile(v.profileFileName(file));
    },
    async saveProfile(...a) {
      const [file, draft] = argsOf(a, 2);
      const data = v.plainObject(v.jsonData(draft, 'profile'), 'profile');
      return core.saveProfile(v.profileFileName(file), data as unknown as ProfileDraft);
    },
    async activateProfile(...a) {
      const [file] = argsOf(a, 1);
      return core.activateProfile(v.profileFileName(file));
    },
    async unlock(...a) {
      const [pin] = argsOf(a, 1);
      return core.unlock(v.pin(pin));
    },
    async lock(...a) {
      argsOf(a, 0);
      core.lock();
    },
    async setPin(...a) {
      const [file, pin] = argsOf(a, 2);
      return core.setPin(v.profileFileName(file), v.pinOrNull(pin));
    },
    async pickFile(...a) {
      const [kind] = argsOf(a, 1);
      return core.pickFile(v.profileFileKind(kind));
    },
    async previewLabel(...a) {
      const [spec, productName] = argsOf(a, 2);
      const label = v.plainObject(v.jsonData(spec, 'label'), 'label') as unknown as LabelSpec;
      return core.previewLabel(label, v.text(productName, 'productName', { max: 64, min: 0 }));
    },
    async listPrinters(...a) {
      argsOf(a, 0);
      return core.options.platform.listPrinters();
    },
    async enableDemo(...a) {
      argsOf(a, 0);
      return core.enableDemo();
    },
    async demoAddChip(...a) {
      const [chip] = argsOf(a, 1);
      return core.addDemoChip(v.demoChip(chip));
    },
    async demoUnplug(...a) {
      const [port] = argsOf(a, 1);
      core.demoUnplug(knownPort(core, port));
    },
    async demoReplug(...a) {
      const [port] = argsOf(a, 1);
      core.demoReplug(knownPort(core, port));
    },
    async demoInjectFault(...a) {
      const [port, fault] = argsOf(a, 2);
      core.demoInjectFault(knownPort(core, port), v.demoFault(fault));
    },
  };
  return h;
}

export function isStationMethod(name: unknown): name is StationMethod {
  return typeof name === 'string' && (STATION_METHODS as readonly string[]).includes(name);
}

/** Runs one call and wraps its result or error in the envelope that crosses the bridge. */
export async function dispatch(handlers: StationHandlers, method: unknown, args: unknown): Promise<IpcResult<unknown>> {
  if (!isStationMethod(method)) return { ok: false, error: { code: 'unknown-method', message: 'Unknown station method.' } };
  if (!Array.isArray(args)) return { ok: false, error: { code: 'invalid-argument', message: 'Invalid request — arguments must be a list.' } };
  try {
    const fn = handlers[method] as (...a: unknown[]) => Promise<unknown>;
    const value = await fn(...args);
    return { ok: true, value: value === undefined ? null : value };
  } catch (err) {
    return { ok: false, error: toIpcError(err) };
  }
}
