/**
 * Date-times in metadata and in `range` filters (Qdrant's `DatetimeRange`): RFC 3339 and the
 * shorter forms Qdrant also reads (`2024-05-01`, `2024-05-01 10:30:00`); without a zone, UTC.
 * Resolution is one millisecond (Qdrant keeps microseconds: bounds that differ below 1 ms are
 * approximate here).
 */
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|z|[+-]\d{2}:?\d{2})?)?$/;

/** Epoch milliseconds of a date-time string, or null when it is not one. */
export function parseDateTime(text: string): number | null {
  const m = DATE_TIME.exec(text);
  if (!m) return null;
  const [, y, mo, d, h = "00", mi = "00", s = "00", frac = "", zone = "Z"] = m;
  const ms = frac ? Math.floor(Number(`0${frac}`) * 1000) : 0;
  const offset = zone === "Z" || zone === "z" ? "Z" : zone.replace(/^([+-]\d{2})(\d{2})$/, "$1:$2");
  const iso = `${y}-${mo}-${d}T${h}:${mi}:${s}.${String(ms).padStart(3, "0")}${offset}`;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return null;
  // Date.parse rolls 2024-02-30 over to March: a date that does not exist is not a date.
  const day = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (day.getUTCMonth() !== Number(mo) - 1 || day.getUTCDate() !== Number(d)) return null;
  return t;
}
