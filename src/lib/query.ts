import { AccountHandle, forEachPage, GetOptions, Query } from './api';
import { CollectionInfo, scopeHint } from './collections';
import { addDays, DayRange } from './dates';

/**
 * Documents of a `day` collection whose `day` lies in the range, both ends included. Oura's end_date
 * is exclusive for some collections and inclusive for others, so the request is widened by a day on
 * each side and the result trimmed.
 */
export async function fetchDays(
  account: AccountHandle,
  c: CollectionInfo,
  range: DayRange,
  extra: Query = {},
  opts: GetOptions = {},
): Promise<unknown[]> {
  const out: unknown[] = [];
  const query: Query = { ...extra, start_date: addDays(range.start, -1), end_date: addDays(range.end, 1) };
  await forEachPage(account, `/v2/usercollection/${c.name}`, query, (docs) => {
    for (const d of docs) {
      const day = (d as { day?: unknown })?.day;
      if (typeof day === 'string' && day >= range.start && day <= range.end) out.push(d);
    }
  }, { scopeHint: scopeHint(c), ...opts });
  return out;
}
