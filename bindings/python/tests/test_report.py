"""Store.report(): the operator's HTML report from Python, Chinese names end to end."""

import ctypes
import gc
import os
import re
import tempfile
import unittest
import xml.dom.minidom

from privdomain._native import lib


def have(*names):
    return all(isinstance(getattr(lib, n), ctypes._CFuncPtr) for n in names)


NAME = '企业微信<客服>&"会员"'


@unittest.skipUnless(have("pd_report_write", "pd_report_html", "pd_report_section_id"), "library has no report yet")
class TestReport(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        from privdomain import Store
        self.store = Store(os.path.join(self._tmp.name, "shop"), create=True)
        s = self.store
        s.define_touchpoint(NAME, domain="private", carrier="wecom", daily_spend=5000)
        # two users acquired in March 2024 (UTC), one buys twice (100.00, 50.00)
        s.append("u1", "acquire", "2024-03-04T01:00:00Z", touchpoint=NAME)
        s.append("u1", "purchase", "2024-03-06T01:00:00Z", touchpoint=NAME, amount="100.00")
        s.append("u1", "purchase", "2024-03-12T01:00:00Z", amount="50.00")
        s.append("u2", "acquire", "2024-03-05T01:00:00Z", touchpoint=NAME)
        s.append("u2", "visit", "2024-03-19T01:00:00Z")
        s.commit()

    def tearDown(self):
        self.store.close()
        gc.collect()
        self._tmp.cleanup()

    def test_sections(self):
        from privdomain import report
        ids = report.sections()
        self.assertEqual(ids[0], "overview")
        for want in ("stages", "funnel", "retention", "lifecycle", "referral", "touchpoints", "clv", "rfm"):
            self.assertIn(want, ids)

    def test_write_file(self):
        from privdomain import report
        path = os.path.join(self._tmp.name, "report.html")
        self.assertEqual(self.store.report(path, title="周报", tz="Asia/Shanghai"), path)
        with open(path, encoding="utf-8") as f:
            page = f.read()
        self.assertTrue(page.startswith("<!DOCTYPE html>"))
        self.assertTrue(page.endswith("</html>\n"))
        # every section, in the library's order
        self.assertEqual(re.findall(r'<section class="pd-section" id="([a-z]+)">', page), report.sections())
        self.assertNotIn('class="pd-error"', page)
        self.assertIn("<title>周报</title>", page)
        # the Chinese name with markup characters: escaped in table cells and in SVG text
        escaped = "企业微信&lt;客服&gt;&amp;&quot;会员&quot;"
        self.assertIn("<td>" + escaped + "</td>", page)
        self.assertRegex(page, r"<text [^>]*>" + re.escape(escaped) + "</text>")
        self.assertNotIn("<客服>", page)
        # the page is well-formed markup (polyglot XHTML) and decodes back to the name
        doc = xml.dom.minidom.parseString(page[len("<!DOCTYPE html>\n"):].encode("utf-8"))
        cells = [td.firstChild.data for td in doc.getElementsByTagName("td") if td.firstChild is not None
                 and td.firstChild.nodeType == td.TEXT_NODE]
        self.assertIn(NAME, cells)
        texts = [t.firstChild.data for t in doc.getElementsByTagName("text") if t.firstChild is not None]
        self.assertIn(NAME, texts)
        # numbers for people: u1's net revenue 150.00 as currency
        self.assertIn("¥150.00", page)

    def test_html_string_and_options(self):
        html = self.store.report(sections=["activity", "retention"], period="month", rarra=True,
                                 currency_symbol="$")
        self.assertIsInstance(html, str)
        self.assertEqual(re.findall(r'<section class="pd-section" id="([a-z]+)">', html), ["activity", "retention"])
        self.assertIn("RARRA", html)
        self.assertIn("<td>2024-03</td>", html)
        self.assertIn("$150.00", html)
        with self.assertRaises(ValueError):
            self.store.report(period="fortnight")
        from privdomain.errors import InvalidError
        with self.assertRaises(InvalidError):
            self.store.report(sections=["overview", "nope"])
        with self.assertRaises(InvalidError):
            self.store.report(tz="Mars/Olympus")


if __name__ == "__main__":
    unittest.main()
