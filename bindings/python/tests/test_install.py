"""`meson install` puts the package where Debian's /usr/bin/python3 finds it under
the prefix, and the installed package loads the installed library by SONAME."""

import glob
import json
import os
import shutil
import subprocess
import tempfile
import unittest

BUILD = os.environ.get("PRIVDOMAIN_BUILD_ROOT")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "python3"


@unittest.skipUnless(BUILD and shutil.which("meson"), "needs PRIVDOMAIN_BUILD_ROOT and meson")
class TestInstall(unittest.TestCase):
    def test_installed_package_finds_installed_library(self):
        with tempfile.TemporaryDirectory() as dest:
            subprocess.run(["meson", "install", "-C", BUILD, "--destdir", dest, "--no-rebuild", "--quiet"],
                           check=True, stdout=subprocess.DEVNULL)
            inits = glob.glob(os.path.join(dest, "**", "privdomain", "__init__.py"), recursive=True)
            self.assertEqual(len(inits), 1, inits)
            pkgdir = os.path.dirname(os.path.dirname(inits[0]))
            libs = glob.glob(os.path.join(dest, "**", "libprivdomain.so.0"), recursive=True)
            self.assertEqual(len(libs), 1, libs)

            options = json.loads(subprocess.run(["meson", "introspect", BUILD, "--buildoptions"],
                                                check=True, capture_output=True, text=True).stdout)
            prefix = next(o["value"] for o in options if o["name"] == "prefix")
            clean = {k: v for k, v in os.environ.items()
                     if k not in ("PYTHONPATH", "PRIVDOMAIN_LIBRARY", "LD_LIBRARY_PATH")}
            if prefix in ("/usr", "/usr/local"):
                path = json.loads(subprocess.run([PYTHON, "-c", "import sys, json; print(json.dumps(sys.path))"],
                                                 env=clean, check=True, capture_output=True,
                                                 text=True).stdout)
                self.assertIn(pkgdir[len(dest):], path, "installed outside the interpreter's path")

            probe = ("import privdomain, privdomain._native as n\n"
                     "maps = open('/proc/self/maps').read().split()\n"
                     "print(privdomain.__file__)\n"
                     "print(n.lib.path)\n"
                     "print([m for m in maps if 'libprivdomain.so' in m][0])\n"
                     "print(privdomain.parse_amount('1.5'))\n")
            env = dict(clean, PYTHONPATH=pkgdir, LD_LIBRARY_PATH=os.path.dirname(libs[0]),
                       PYTHONDONTWRITEBYTECODE="1")
            out = subprocess.run([PYTHON, "-c", probe], env=env, cwd=dest, check=True,
                                 capture_output=True, text=True).stdout.split("\n")
            self.assertEqual(out[0], inits[0])
            self.assertEqual(out[1], "libprivdomain.so.0")                    # by SONAME
            self.assertEqual(os.path.realpath(out[2]), os.path.realpath(libs[0]))
            self.assertEqual(out[3], "150")


if __name__ == "__main__":
    unittest.main()
