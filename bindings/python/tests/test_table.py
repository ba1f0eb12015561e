"""Table: plain Python views of a pd_table, checked against the library's own
JSON and CSV renderings (parsed independently with json / csv)."""

import csv
import io
import json
import sys
import unittest

from privdomain import Store
from test_store import StoreTestCase

try:
    import pandas
except ImportError:
    pandas = None


class TestTable(StoreTestCase):
    def tables(self):
        self.build_small()
        with Store(self.path) as s:
            return s.info(), s.touchpoints()

    def test_shape_and_access(self):
        info, tps = self.tables()
        self.assertEqual(tps.columns, ["id", "name", "domain", "carrier", "daily_spend"])
        self.assertEqual(tps.types["name"], "string")
        self.assertEqual(tps.types["daily_spend"], "int64")
        self.assertEqual(len(tps), 2)
        rows = tps.rows()
        self.assertEqual(rows[0], tps[0])
        self.assertEqual([r["name"] for r in tps], tps["name"])
        spend = dict(zip(tps["name"], tps["daily_spend"]))
        self.assertEqual(spend["douyin_feed"], 120050)
        self.assertEqual(tps.to_dict()["domain"], [r["domain"] for r in rows])
        with self.assertRaises(KeyError):
            tps["nope"]
        with self.assertRaises(IndexError):
            tps[2]
        self.assertGreater(len(info), 3)

    def test_rows_equal_library_json(self):
        for t in self.tables():
            with self.subTest(table=t.name):
                self.assertEqual(json.loads(t.format("json")), t.rows())

    def test_csv_and_text(self):
        for t in self.tables():
            with self.subTest(table=t.name):
                rows = list(csv.reader(io.StringIO(t.format("csv"))))
                self.assertEqual(rows[0], t.columns)
                self.assertEqual(len(rows), len(t) + 1)
                for got, row in zip(rows[1:], t):
                    self.assertEqual(got, ["" if v is None else str(v) for v in row.values()])
                text = t.format("text")
                self.assertTrue(all(c in text.splitlines()[0] for c in t.columns))
                self.assertIn(text, repr(t))
                with self.assertRaises(ValueError):
                    t.format("xml")

    def test_to_pandas_without_pandas_says_so(self):
        info, _ = self.tables()
        saved = sys.modules.get("pandas")
        sys.modules["pandas"] = None  # makes `import pandas` fail
        try:
            with self.assertRaises(ImportError) as cm:
                info.to_pandas()
            self.assertIn("pandas", str(cm.exception))
        finally:
            if saved is None:
                del sys.modules["pandas"]
            else:
                sys.modules["pandas"] = saved
        self.assertIn("users", info["key"])  # everything else works without it

    @unittest.skipUnless(pandas, "pandas not installed")
    def test_to_pandas(self):
        info, tps = self.tables()
        df = tps.to_pandas()
        self.assertEqual(list(df.columns), tps.columns)
        self.assertEqual(df["name"].tolist(), tps["name"])
        self.assertEqual(df.shape, (2, 5))
        spend = [None if pandas.isna(v) else int(v) for v in df["daily_spend"]]
        self.assertEqual(spend, tps["daily_spend"])
        self.assertEqual(str(df["id"].dtype), "int64")


if __name__ == "__main__":
    unittest.main()
