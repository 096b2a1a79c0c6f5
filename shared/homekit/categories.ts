// HomeKit accessory categories (the SDK's hap_cid_t, see ../spec/homekit-setup.md): the number the
// setup payload carries, and a name people recognise. Any 1–255 is valid in a payload.

export const HOMEKIT_CATEGORIES: Readonly<Record<number, string>> = {
  1: 'other', 2: 'bridge', 3: 'fan', 4: 'garage door opener', 5: 'lighting', 6: 'lock', 7: 'outlet',
  8: 'switch', 9: 'thermostat', 10: 'sensor', 11: 'security system', 12: 'door', 13: 'window',
  14: 'window covering', 15: 'programmable switch', 16: 'range extender', 17: 'IP camera',
  18: 'video doorbell', 19: 'air purifier', 20: 'heater', 21: 'air conditioner', 22: 'humidifier',
  23: 'dehumidifier', 28: 'sprinkler', 29: 'faucet', 30: 'shower system', 31: 'television', 32: 'remote',
};

/** "7" or "outlet" → 7; undefined when it is neither a 1–255 number nor a known name. */
export function parseCategory(text: string): number | undefined {
  const t = text.trim().toLowerCase();
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    return n >= 1 && n <= 255 ? n : undefined;
  }
  const found = Object.entries(HOMEKIT_CATEGORIES).find(([, name]) => name.toLowerCase() === t);
  return found ? Number(found[0]) : undefined;
}
