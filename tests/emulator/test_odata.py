"""The OData filter subset the emulator implements for runs:query / experiments:query (no azureml needed)."""

from __future__ import annotations

import datetime as dt

import pytest

from batchai_compat.testing.amlemu.odata import MISSING, ODataError, compile_filter

pytestmark = [pytest.mark.azureml]

RUN = {"Tags/batchai.job_name": "job 1", "Tags/empty": None, "ParentRunId": None, "Status": "Completed",
       "CreatedUtc": dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc), "name": "Exp-1"}


def getter(field):
    if field.startswith(("Tags/", "Properties/")):
        return RUN.get(field, MISSING)
    return RUN.get(field)


@pytest.mark.parametrize("text, expected", [
    ('((Tags/batchai.job_name eq "job 1") and (ParentRunId eq null))', True),   # Run.list(tags={...})
    ('(Tags/batchai.job_name ne null or Tags/batchai.job_name eq null)', True),  # Run.list(tags="k")
    ('(Tags/absent ne null or Tags/absent eq null)', False),  # azureml's "has tag" filter (odata.py: documented)
    ('(Tags/absent eq null)', False),
    ('not (Tags/absent ne null or Tags/absent eq null)', True),
    ('(Tags/empty ne null or Tags/empty eq null)', True),                        # tag set without value
    ('(Status eq Completed)', True),
    ('(Status eq "completed")', True),
    ("Status eq 'Failed'", False),
    ('not (Status eq "Failed")', True),
    ('(name eq exp-1)', True),
    ('(CreatedUtc ge 2024-05-01 11:00:00)', True),
    ('(CreatedUtc gt 2024-05-01T12:00:00Z)', False),
    ('(Tags/batchai.job_name eq "job 1") or (Status eq Failed) and (Status eq X)', True),
    ('', True),
])
def test_filters(text, expected):
    assert compile_filter(text)(getter) is expected


@pytest.mark.parametrize("text", ['(Status eq', 'Status ~ 1', '(Status eq 1', 'Status eq 1 )'])
def test_bad_filters(text):
    with pytest.raises(ODataError):
        compile_filter(text)
