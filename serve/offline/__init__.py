"""Jobs without the server: `counterscan score` over files, and the verdict export behind
`counterscan data from-verdicts`."""
