"""Regenerate the workbooks in workbook_templates/ (input template, filled example, constraints template).

    python scripts/build_templates.py
"""
from pathlib import Path

from xlmrio.excel.demo import write_constraints_template, write_input_template

HERE = Path(__file__).resolve().parents[1] / "workbook_templates"

if __name__ == "__main__":
    write_input_template(HERE / "xlmrio_input_template.xlsx", filled=False)
    write_input_template(HERE / "xlmrio_input_example.xlsx", filled=True)
    write_constraints_template(HERE / "xlmrio_constraints_template.xlsx")
    print(f"wrote the templates in {HERE}")
