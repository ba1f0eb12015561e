"""privdomain.chart: SVG from a Table returned by the library, number formatting."""

import gc
import os
import tempfile
import unittest
import xml.dom.minidom



class TestChart(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        gc.collect()
        self._tmp.cleanup()

    def test_format_value(self):
        from privdomain import chart
        self.assertEqual(chart.format_value(1234567, "integer"), "1,234,567")
        self.assertEqual(chart.format_value(123456, "currency"), "¥1,234.56")
        self.assertEqual(chart.format_value(0.1234, "percent"), "12.3%")
        self.assertEqual(chart.format_value(250, "currency", currency_symbol="$"), "$2.50")

    def test_svg_of_library_table(self):
        from privdomain import Store, chart
        path = os.path.join(self._tmp.name, "s.pds")
        with Store(path, create=True) as store:
            store.define_touchpoint("企业微信 <客服>", domain="private", carrier="wecom", daily_spend=12345)
            store.define_touchpoint("抖音广告", domain="public", carrier="feed_ad", daily_spend=990000)
            store.commit()
            t = store.touchpoints()
            text = chart.svg(t, kind="hbar", label_col="name", value_cols=["daily_spend"],
                             format="currency", title="日预算")
            doc = xml.dom.minidom.parseString(text.encode("utf-8"))
            self.assertEqual(doc.documentElement.tagName, "svg")
            self.assertIn("企业微信 &lt;客服&gt;", text)
            self.assertIn("¥9,900.00", text)
            out = os.path.join(self._tmp.name, "c.svg")
            chart.write(t, out, kind="bar", label_col="name", value_cols="daily_spend")
            with open(out, encoding="utf-8") as f:
                self.assertTrue(f.read().startswith("<svg"))
            with self.assertRaises(Exception):
                chart.svg(t, value_cols="missing")
            with self.assertRaises(ValueError):
                chart.svg(t, kind="pie")


if __name__ == "__main__":
    unittest.main()


class TestReport(unittest.TestCase):
    def test_report(self):
        from privdomain import Store, report
        with tempfile.TemporaryDirectory() as d:
            with Store(os.path.join(d, "s.pds"), create=True) as store:
                store.define_touchpoint("企业微信", domain="private", carrier="wecom")
                store.append("u1", "acquire", 1709481600000, touchpoint="企业微信")
                store.append("u1", "purchase", 1709481600000 + 86400000, amount="12.34")
                store.commit()
                html = store.report(tz="Asia/Shanghai", title="周报")
                self.assertTrue(html.startswith("<!DOCTYPE html>"))
                self.assertIn("<title>周报</title>", html)
                for s in report.sections():
                    self.assertIn('<section class="pd-section" id="%s">' % s, html)
                self.assertIn("¥12.34", html)
                out = os.path.join(d, "r.html")
                self.assertEqual(store.report(out, sections=["overview"]), out)
                with open(out, encoding="utf-8") as f:
                    text = f.read()
                self.assertIn('id="overview"', text)
                self.assertNotIn('id="activity"', text)
                with self.assertRaises(Exception):
                    store.report(sections=["nope"])
            gc.collect()
