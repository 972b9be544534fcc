"""Text of the test half's Word handbook and PDF manual; `make_docs.py` builds them from it."""

HANDBOOK_FILE = "ostrander_vet_handbook.docx"
HANDBOOK_META = ("Employee Handbook", "Ostrander Veterinary Partners")
MANUAL_FILE = "nordhal_dh40_manual.pdf"
MANUAL_AUTHOR = "Nordhal Climate Ltd"

HANDBOOK = [
    ("title", "Ostrander Veterinary Partners — Employee Handbook"),
    ("p", "Edition 7, March 2025. Ostrander Veterinary Partners runs three small-animal clinics, "
          "in Kelsall, Marbury and Tattenhall, and a 24-hour hospital in Kelsall. Please read this "
          "handbook during your first week and keep it for reference."),
    ("h1", "Pay and allowances"),
    ("p", "Salaries are paid on the last working day of each month. Allowances below are per "
          "person per year unless stated; unused CPD money does not roll over to the next year."),
    ("table", [
        ["Level", "CPD allowance", "Uniform allowance", "On-call payment"],
        ["Level 1 Animal care assistant", "£250", "£120", "none"],
        ["Level 2 Registered veterinary nurse", "£600", "£150", "£45 per night"],
        ["Level 3 Veterinary surgeon", "£1,200", "£150", "£95 per night"],
        ["Level 4 Clinical lead", "£1,800", "£180", "£110 per night"],
        ["Level 5 Practice director", "£2,500", "none", "none"],
    ]),
    ("h2", "On-call rota"),
    ("p", "Each clinic's on-call cover runs from 19:00 to 08:00. Nobody is asked to do more than "
          "two on-call nights in a week, and anyone who is called out after midnight may start "
          "at 11:00 the next morning. Swaps must be agreed with the rota coordinator, Dilys Harcourt."),
    ("h1", "Clinical safety"),
    ("bullets", [
        "Every entry in the controlled drugs register is signed by two members of staff.",
        "Report any bite or scratch in the accident book within 24 hours, even if it looks minor.",
        "In the X-ray room wear a lead apron and your dosimeter badge at all times.",
        "Staff who are pregnant must not be present during X-ray exposures.",
    ]),
    ("h1", "Sickness absence"),
    ("p", "If you are too ill to work, phone your clinic manager before 07:30; a text or email is "
          "not enough. You can self-certify for up to seven calendar days, after which you need a "
          "fit note from your doctor. Payroll questions go to Lorna Mackintosh on extension 310."),
]

MANUAL = {
    "title": "Nordhal DH-40 Dehumidifier",
    "subtitle": "Instruction manual — please read before operating the unit",
    "intro": "The DH-40 removes moisture from rooms of up to 40 m². It uses the refrigerant R290, "
             "which is FLAMMABLE: do not pierce or burn the unit, and keep it away from open flames.",
    "specs": [
        ["Specification", "Value"],
        ["Dehumidifying capacity", "20 L/day (30 °C, 80% RH)"],
        ["Rated power", "390 W"],
        ["Water tank", "4.5 L"],
        ["Operating range", "5–35 °C"],
        ["Noise level (low fan)", "44 dB"],
        ["Dimensions (W × D × H)", "340 × 225 × 560 mm"],
        ["Net weight", "13.4 kg"],
    ],
    "steps_title": "Setting up",
    "steps": [
        "Keep the unit UPRIGHT for at least 4 hours after transport before switching it on.",
        "Stand it on a firm, level floor with 20 cm of free space on every side.",
        "Push the water tank fully home. The unit will not start while the tank is out.",
        "Plug in, press POWER and set the target humidity with the + and – keys; 50% is "
        "recommended for living rooms.",
        "For continuous drainage, pull out the rubber plug at the back and attach a 12 mm hose. "
        "The hose must run downhill all the way.",
    ],
    "codes_title": "Troubleshooting codes",
    "codes": [
        ["Code", "Meaning", "Remedy"],
        ["FL", "Water tank FULL", "Empty the tank and refit it"],
        ["E1", "HUMIDITY SENSOR fault", "Unplug for 10 minutes; if it returns, call service"],
        ["E2", "COIL SENSOR fault", "Call service; do not use the unit"],
        ["LO", "Room below 5 °C", "The unit stops; move it to a warmer room"],
        ["dF", "DEFROSTING (normal)", "Wait; it restarts by itself within 15 minutes"],
    ],
    "footer": "Nordhal Climate Ltd, customer care 0345 129 7730. Warranty: 3 years on the "
              "compressor and 1 year on all other parts, from the date of purchase.",
}
