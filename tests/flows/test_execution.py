"""The NLP stage as Prefect tasks mapped over batches, on the task runner named in ``[execution]``."""

import dataclasses

import pytest
from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner

from helpers import make_settings, stored_rows

from flows.nightly import nightly, task_runner
from pipeline.config import ExecutionSettings

def _settings(tmp_path, eutils_server, **execution):
    settings = make_settings(tmp_path, eutils_server.base_url)
    return dataclasses.replace(settings, execution=ExecutionSettings(**execution))


@pytest.mark.slow  # a two-worker Dask cluster, each worker loading the models
def test_a_local_dask_cluster_of_two_workers_stores_the_same_rows_as_a_local_run(tmp_path, eutils_server):
    distributed = pytest.importorskip("distributed", reason="prefect-dask is installed by `make install` (test extra)")
    from pipeline import stages

    local = _settings(tmp_path / "local", eutils_server, task_runner="processes", workers=2, batch_docs=3)
    nightly(settings=local)

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        on_dask = _settings(tmp_path / "dask", eutils_server, task_runner="dask", workers=2, batch_docs=3,
                            dask_address=cluster.scheduler_address)
        counts = nightly(settings=on_dask)
        # both workers did NLP work: each loaded the pipeline for the batches it was given
        loaded = client.run(lambda: stages.nlp_pipeline.cache_info().currsize)
    assert sorted(loaded.values()) == [1, 1]
    assert counts.records_new == 8 and counts.articles_loaded == 8

    expected = stored_rows(local.storage.db_path)
    assert all(expected.values())
    assert stored_rows(on_dask.storage.db_path) == expected


@pytest.mark.slow  # two whole runs, one of them in 16 batches
def test_a_run_split_into_batches_stores_every_batch_once(tmp_path, eutils_server):
    one_batch = _settings(tmp_path / "one", eutils_server, task_runner="threads", workers=1, batch_docs=1000)
    many = _settings(tmp_path / "many", eutils_server, task_runner="processes", workers=2, batch_docs=2)
    nightly(settings=one_batch)
    nightly(settings=many)
    assert stored_rows(many.storage.db_path) == stored_rows(one_batch.storage.db_path)


def test_the_configured_runner_is_the_one_built():
    assert isinstance(task_runner(ExecutionSettings(task_runner="threads", workers=3)), ThreadPoolTaskRunner)
    assert isinstance(task_runner(ExecutionSettings(task_runner="processes", workers=2)), ProcessPoolTaskRunner)
    pytest.importorskip("prefect_dask")
    from prefect_dask import DaskTaskRunner

    runner = task_runner(ExecutionSettings(task_runner="dask", dask_address="tcp://scheduler:8786"))
    assert isinstance(runner, DaskTaskRunner) and runner.address == "tcp://scheduler:8786"


def test_an_unknown_runner_in_the_config_is_refused(tmp_path):
    from pipeline.config import DEFAULT_CONFIG, load_settings

    config = tmp_path / "pipeline.toml"
    config.write_text(DEFAULT_CONFIG.read_text().replace('task_runner = "processes"', 'task_runner = "ray"'))
    with pytest.raises(ValueError, match="task_runner must be one of processes, threads, dask"):
        load_settings(config, env={})
