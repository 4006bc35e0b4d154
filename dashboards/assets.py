"""Fill Solara's CDN cache from the npm registry, so the dashboard renders without internet.

Solara's page loads its JavaScript, CSS and fonts through the server's CDN proxy, which serves
``<venv>/share/solara/cdn/<package>@<version>/<file>`` when present and otherwise fetches from
jsdelivr; offline, the page stays blank. This reads the package specs the installed Solara's
page template asks for (so an upgrade of Solara is followed automatically), ``npm pack``s each
one and unpacks it where the proxy looks. ``python -m dashboards.assets`` (``make assets``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path


def cache_dir() -> Path:
    import solara.server.settings

    return Path(solara.server.settings.assets.proxy_cache_dir)


def needed_specs() -> list[str]:
    """The exact ``name@version`` specs the installed Solara's page loads through its CDN proxy."""
    import solara
    import solara.server.server
    import solara.server.settings

    template = Path(solara.server.server.__file__).parent / "templates" / "solara.html.j2"
    text = template.read_text()
    specs = set(re.findall(r"\{\{cdn\}\}/((?:@[\w.-]+/)?[\w.-]+@\d+\.\d+\.\d+[\w.-]*)/", text))
    vuetify3 = solara.server.server.vue3  # the test the page template itself uses
    specs = {s for s in specs if ("vuetify3-app" in s) == vuetify3 or "vuetify" not in s}
    fontawesome = solara.server.settings.assets.fontawesome_path.strip("/").split("/")[0]
    specs.add(fontawesome)
    # Components load more through the same proxy at run time (Markdown: mermaid and KaTeX).
    for src in (Path(solara.__file__).parent / "components").glob("*.py"):
        specs.update(re.findall(r"getCdn\(\)\}/((?:@[\w.-]+/)?[\w.-]+@\d+\.\d+\.\d+[\w.-]*)/", src.read_text()))
    # ECharts (the dashboard's charts) names its version in a constant: `echarts@${version}`.
    for src in (Path(solara.__file__).parent / "components").glob("*.vue"):
        text = src.read_text()
        version = re.search(r'const version = "(\d+\.\d+\.\d+)"', text)
        if version:
            specs.update(f"{name}@{version.group(1)}" for name in re.findall(r"getCdn\(\)\}/([\w.-]+)@\$\{version\}/", text))
    return sorted(specs)


def fetch(spec: str, target: Path) -> None:
    """``npm pack`` one package and unpack it into ``target`` (replaced atomically)."""
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("error: npm is needed to fetch Solara's front-end packages (apt-get install -y npm, "
                         "or install Node.js); without them the dashboard page stays blank offline")
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([npm, "pack", spec, "--silent", "--pack-destination", tmp], capture_output=True,
                             text=True, cwd=tmp)
        tgz = sorted(Path(tmp).glob("*.tgz"))
        if out.returncode != 0 or not tgz:
            raise SystemExit(f"error: npm pack {spec} failed: {out.stderr.strip() or out.stdout.strip()}")
        unpacked = Path(tmp) / "unpacked"
        with tarfile.open(tgz[0]) as tar:
            members = [m for m in tar.getmembers() if m.name.startswith("package/")]
            for m in members:
                m.name = m.name[len("package/"):]
            tar.extractall(unpacked, members=[m for m in members if m.name], filter="data")
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(f".{target.name}.tmp")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(unpacked, staging)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)


def main(argv: list[str] | None = None) -> int:
    force = "--force" in (argv if argv is not None else sys.argv[1:])
    root = cache_dir()
    for spec in needed_specs():
        target = root / spec
        if target.is_dir() and any(target.iterdir()) and not force:
            print(f"  have {spec}")
            continue
        print(f"  npm pack {spec} -> {target}")
        fetch(spec, target)
    print(f"Solara's front end is cached in {root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
