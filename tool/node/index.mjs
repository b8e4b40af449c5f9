// The ES module face of index.js.
import sqliteUpsert from './index.js';

export const { getLoadablePath, load } = sqliteUpsert;
export default sqliteUpsert;
