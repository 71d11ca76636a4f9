"""The campaign's report: its facts gathered from the database (`facts`), the progress chart
(`chart`), the files a lead office files and forwards (`html_csv`, `docx` with `pictures`,
written and published by `files`), its delivery to the coordinator once per report
(`delivery`) and the moment the final one makes itself (`schedule`)."""
