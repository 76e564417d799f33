"""Stage detect_contacts: each foot's strikes and toe offs from the trial's raw vertical GRF,
over the whole record (stage plan_cycles then chooses the cycles)."""

from retrorun import formats, jobs
from retrorun import grf as grf_lib

wc = snakemake.wildcards
params = snakemake.params
with jobs.job(snakemake) as log:
    table, _ = formats.read_storage(snakemake.input.grf)
    contacts = grf_lib.raw_contacts(
        table,
        external_loads=snakemake.input.external_loads,
        window={},
        margin_s=0.0,
        threshold_n=params.threshold_n,
        min_contact_s=params.min_contact_s,
        sides=params.sides,
        subject=wc.subject,
        trial=wc.trial,
        source=snakemake.input.grf,
    )
    formats.write_csv(snakemake.output.contacts, contacts)
    for side, own in contacts.groupby("side"):
        log.info("side %s: %d contacts (raw vertical force, threshold %g N)", side, len(own), params.threshold_n)
