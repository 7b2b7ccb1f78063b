<?php
/* Stand-in for FusionPBX's resources/footer.php. */
	echo "</div>\n</body>\n</html>\n";
