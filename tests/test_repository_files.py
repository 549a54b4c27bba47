"""The files users and instructors look for agree with each other: licence, citation, changelog, version, address."""

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def _version() -> str:
    return re.search(
        r'^version = "(.+)"',
        (REPO / "pyproject.toml").read_text(encoding="utf-8"),
        re.M,
    ).group(1)


def test_citation_cff_names_this_release_and_repository():
    citation = yaml.safe_load(
        (REPO / "CITATION.cff").read_text(encoding="utf-8")
    )
    config = yaml.safe_load(
        (REPO / "_config.yml").read_text(encoding="utf-8")
    )
    assert citation["cff-version"] == "1.2.0"
    assert {"message", "title", "authors"} <= set(citation) and citation[
        "authors"
    ]
    assert citation["version"] == _version(), (
        "bump CITATION.cff's version with pyproject.toml's"
    )
    assert citation["repository-code"] == config["repository"]["url"]
    assert citation["license"] == ["MIT", "CC-BY-4.0"]


def test_the_licences_are_stated_alike_everywhere():
    licence = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert "MIT License" in licence and "CC BY 4.0" in licence
    assert 'license = { text = "MIT" }' in (
        REPO / "pyproject.toml"
    ).read_text(encoding="utf-8")  # the package's code
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "MIT" in readme and "CC BY 4.0" in readme


def test_the_changelog_has_a_section_for_the_current_version():
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "https://keepachangelog.com/en/1.1.0/" in changelog
    assert re.search(
        rf"^## \[{re.escape(_version())}\]", changelog, re.M
    ), "add a section for this version"


def test_the_package_reports_the_version_of_pyproject():
    import gan_teach

    assert gan_teach.__version__ == _version()


def test_the_readme_links_to_the_repository_of_config_yml():
    config = yaml.safe_load(
        (REPO / "_config.yml").read_text(encoding="utf-8")
    )
    owner_and_name = config["repository"]["url"].removeprefix(
        "https://github.com/"
    )
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    linked = set(
        re.findall(
            r"(?:https://github\.com|colab\.research\.google\.com/github)/([\w.-]+/[\w.-]+?)[/@)\s]",
            readme,
        )
    )
    assert linked == {owner_and_name}
    pinned = set(re.findall(r"gan-teach(?:@|/blob/)(v[\d.]+\d)", readme))
    assert pinned == {f"v{_version()}"}, (
        "the README's pinned links name another release than pyproject.toml"
    )
