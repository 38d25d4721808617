"""The importer's two ways into the registry (COPY straight into parcels_parcel, or through the stage
and the merge) give the same parcels, and it leaves the session as it found it."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time

import numpy as np
import pytest
from django.db import IntegrityError, connection, transaction

from parcels.importing import _Readers, import_parcels
from parcels.models import District, Parcel
from parcels.services import ParcelBulkWrite
from tests.parcels.factories import metric_to_storage, rect, riyadh
from tests.parcels.test_import_stream import lots_frame, plain_frame, registry, signals

pytestmark = pytest.mark.django_db


def paths_taken(monkeypatch) -> list[str]:
    """Record which COPY each chunk of an import was written with."""
    taken, write = [], ParcelBulkWrite.write_chunk

    def spy(self, chunk):
        taken.append(chunk.copy)
        return write(self, chunk)

    monkeypatch.setattr(ParcelBulkWrite, "write_chunk", spy)
    return taken


def test_straight_copy_and_the_stage_give_the_same_parcels_rejects_and_signal(
        tmp_path, monkeypatch, django_capture_on_commit_callbacks):
    path = tmp_path / "lots.gpkg"
    lots_frame().to_file(path, layer="parcels")
    direct, staged = riyadh("DIR"), riyadh("STG")
    # A district far from every lot: the stage must look districts up, and finds none.
    District.objects.create(municipality=staged, code="far", geom=metric_to_storage(rect(4000, 4000, 10, 10)))
    taken = paths_taken(monkeypatch)

    with signals() as sent, django_capture_on_commit_callbacks(execute=True):
        one = import_parcels(path=str(path), municipality=direct, rejects_path=str(tmp_path / "d.csv"), chunk_rows=7)
    assert set(taken) == {"copy_created"} and len(taken) > 5
    taken.clear()
    with signals() as sent_staged, django_capture_on_commit_callbacks(execute=True):
        two = import_parcels(path=str(path), municipality=staged, rejects_path=str(tmp_path / "s.csv"),
                             chunk_rows=7)
    assert set(taken) == {"copy_stage"} and len(taken) > 5

    assert one.line().split(" (")[0] == two.line().split(" (")[0] == (
        "read 40, created 36, updated 0, unchanged 0, repaired 1, rejected 4")
    assert (tmp_path / "d.csv").read_text() == (tmp_path / "s.csv").read_text()
    assert "duplicate parcel code '7-1-3' (first at row 3)" in (tmp_path / "d.csv").read_text()
    assert registry(direct) == registry(staged)
    assert list(Parcel.objects.filter(municipality=direct).order_by("id").values_list("parcel_code", flat=True)) \
        == list(Parcel.objects.filter(municipality=staged).order_by("id").values_list("parcel_code", flat=True))
    assert len(sent) == len(sent_staged) == 1
    assert sent[0].extent == pytest.approx(sent_staged[0].extent)
    np.testing.assert_allclose(np.array(sent[0].bboxes), np.array(sent_staged[0].bboxes), rtol=0, atol=1e-6)


def test_a_code_repeated_within_one_chunk_keeps_its_first_row(tmp_path):
    frame = lots_frame()
    frame.loc[9, "parcel_code"] = frame.loc[4, "parcel_code"]  # rows 5 and 10, in one chunk
    path = tmp_path / "lots.gpkg"
    frame.to_file(path, layer="parcels")
    municipality = riyadh()
    summary = import_parcels(path=str(path), municipality=municipality, rejects_path=str(tmp_path / "r.csv"))
    assert (10, "7-1-5", "duplicate parcel code '7-1-5' (first at row 5)") in summary.rejects
    kept = Parcel.objects.get(municipality=municipality, parcel_code="7-1-5")
    assert kept.geom.extent == pytest.approx(metric_to_storage(rect(4 * 22, 0, 20, 30)).extent)


def test_the_registry_foreign_keys_are_deferred_again_after_an_import(tmp_path):
    path = tmp_path / "lots.gpkg"
    plain_frame(5).to_file(path, layer="parcels")
    municipality = riyadh()
    with transaction.atomic():
        import_parcels(path=str(path), municipality=municipality)
        with connection.cursor() as cursor:
            # Deferred: a dangling district is accepted until the end of the transaction ...
            cursor.execute("UPDATE parcels_parcel SET district_id = -1 WHERE municipality_id = %s",
                           [municipality.pk])
            # ... and refused when checked.
            with pytest.raises(IntegrityError), transaction.atomic():
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("UPDATE parcels_parcel SET district_id = NULL WHERE municipality_id = %s",
                           [municipality.pk])


@pytest.mark.django_db(transaction=True)
def test_an_import_runs_in_a_session_that_already_used_temporary_tables(tmp_path):
    path = tmp_path / "lots.gpkg"
    plain_frame(5).to_file(path, layer="parcels")
    municipality = riyadh()
    connection.close()  # a new session, whose temporary buffers are still the default
    with connection.cursor() as cursor:
        cursor.execute("SHOW temp_buffers")
        default = cursor.fetchone()[0]
        cursor.execute("CREATE TEMP TABLE earlier AS SELECT 1 AS x")  # its buffers are now in use
        cursor.execute("DROP TABLE earlier")
    summary = import_parcels(path=str(path), municipality=municipality, chunk_rows=2)
    assert summary.created == 5
    with connection.cursor() as cursor:
        cursor.execute("SHOW temp_buffers")
        assert cursor.fetchone()[0] == default  # PostgreSQL refused the change; the import ran anyway


def _read_forever(start, rows, encoder):
    time.sleep(120)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


def test_reader_processes_end_with_a_killed_import():
    fork = multiprocessing.get_context("fork")
    pids = fork.Queue()

    def an_import():
        readers = _Readers(_read_forever, processes=2)
        pids.put(list(readers.pool._processes))
        readers.submit(0, 1, None).result()

    importer = fork.Process(target=an_import)
    importer.start()
    readers = pids.get(timeout=60)
    assert len(readers) == 2 and all(_alive(pid) for pid in readers)
    os.kill(importer.pid, signal.SIGKILL)  # as the OOM killer or `kill -9` would
    importer.join()
    deadline = time.monotonic() + 10
    try:
        while any(_alive(pid) for pid in readers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_alive(pid) for pid in readers)
    finally:  # a failing run leaves no process behind
        for pid in filter(_alive, readers):
            os.kill(pid, signal.SIGKILL)
