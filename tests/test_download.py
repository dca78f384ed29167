"""Download: mirror copies verified by SHA256SUMS, provenance, atomicity, and clear network errors."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from evoproxy.cli import main
from evoproxy.release import download as dl


def _mirror(tmp: Path, files: dict[str, bytes], sums: dict[str, str] | None = None) -> Path:
    m = tmp / "mirror"
    m.mkdir()
    for name, data in files.items():
        (m / name).write_bytes(data)
    sums = sums or {n: hashlib.sha256(d).hexdigest() for n, d in files.items()}
    (m / "SHA256SUMS").write_text("".join(f"{h}  {n}\n" for n, h in sums.items()))
    return m


def test_real_mirror_copy_and_provenance(mirror_dir: Path, tmp_path: Path) -> None:
    done = dl.download(tmp_path / "dest", mirror=mirror_dir)
    assert sorted(done) == sorted(dl.RELEASE_FILES)
    prov = json.loads((tmp_path / "dest" / "PROVENANCE.json").read_text())
    sums = dl.read_checksums(mirror_dir)
    for name in dl.RELEASE_FILES:
        assert prov[name]["sha256"] == sums[name] == dl.sha256_of(tmp_path / "dest" / name)
        assert prov[name]["source"].startswith("mirror:")
    assert not list((tmp_path / "dest").glob("*.part"))


def test_only_accepts_space_and_stem(tmp_path: Path) -> None:
    m = _mirror(tmp_path, {"zc_nasbench201.json": b"{}", "zc_nasbench101.json": b"{}"})
    done = dl.download(tmp_path / "d", mirror=m, only=["nb201", "zc_nasbench101"])
    assert sorted(done) == ["zc_nasbench101.json", "zc_nasbench201.json"]
    with pytest.raises(dl.DownloadError, match="unknown file 'nb999'"):
        dl.download(tmp_path / "d", mirror=m, only=["nb999"])


def test_checksum_mismatch_leaves_nothing(tmp_path: Path) -> None:
    m = _mirror(tmp_path, {"zc_nasbench201.json": b"{}"}, {"zc_nasbench201.json": "0" * 64})
    with pytest.raises(dl.DownloadError, match="does not match SHA256SUMS"):
        dl.download(tmp_path / "d", mirror=m, only=["nb201"])
    assert not (tmp_path / "d" / "zc_nasbench201.json").exists()
    assert list((tmp_path / "d").iterdir()) == []


def test_mirror_without_checksums_is_refused(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    with pytest.raises(dl.DownloadError, match="no SHA256SUMS"):
        dl.download(tmp_path / "d", mirror=tmp_path / "m")


def test_network_failure_names_the_mirror_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    import gdown

    def offline(*_a: object, **kw: object) -> None:
        Path(str(kw["output"])).write_bytes(b"partial")  # a broken transfer leaves bytes behind
        raise ConnectionError("Failed to connect to drive.google.com")

    monkeypatch.setattr(gdown, "download", offline)
    monkeypatch.delenv("EVOPROXY_MIRROR", raising=False)
    code = main(["download", "--dest", str(tmp_path / "d"), "--only", "nb201"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "--mirror" in err and "EVOPROXY_MIRROR" in err and "1R7n7GpFHAjUZpPISzbhxH0QjubnvZM5H" in err
    assert list((tmp_path / "d").iterdir()) == []  # no partial file under any name


def test_gdrive_html_page_is_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gdown

    def quota_page(*_a: object, **kw: object) -> str:
        Path(str(kw["output"])).write_text("<html>Quota exceeded</html>")
        return str(kw["output"])

    monkeypatch.setattr(gdown, "download", quota_page)
    with pytest.raises(dl.DownloadError, match="non-JSON page"):
        dl.download(tmp_path / "d", only=["nb101"])
    assert not (tmp_path / "d" / "zc_nasbench101.json").exists()


def test_gdrive_success_records_provenance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gdown

    calls = []

    def fake(*_a: object, **kw: object) -> str:
        calls.append(kw["id"])
        Path(str(kw["output"])).write_text('{"cifar10": {}}')
        return str(kw["output"])

    monkeypatch.setattr(gdown, "download", fake)
    dl.download(tmp_path / "d", only=["nb101"])
    dl.download(tmp_path / "d", only=["nb101"])  # second call: provenance hash matches, nothing fetched
    prov = json.loads((tmp_path / "d" / "PROVENANCE.json").read_text())
    assert calls == ["1Rkse44EWgYdBS34iyhjSs9Y2l0fxPCpU"]
    assert prov["zc_nasbench101.json"]["sha256"] == hashlib.sha256(b'{"cifar10": {}}').hexdigest()
    assert prov["zc_nasbench101.json"]["source"] == "gdrive:1Rkse44EWgYdBS34iyhjSs9Y2l0fxPCpU"


def test_accuracy_csv_has_no_official_source(tmp_path: Path) -> None:
    with pytest.raises(dl.DownloadError, match="no official download"):
        dl.download(tmp_path / "d", only=["nb201_accuracy_15625"])
